/**
 * The command line: commander wiring from argv to the command functions in `./commands`, output, and the exit
 * code. `run` never throws and never calls `process.exit`, so tests can drive it in-process as well.
 *
 * @module
 */
import { readFileSync } from 'node:fs'
import { Command, CommanderError, InvalidArgumentError } from 'commander'
import { cleanupCommand, checkCleanupOptions } from './commands/cleanup.js'
import { checkListOptions, listCommand } from './commands/list.js'
import { checkRevokeOptions, revokeCommand } from './commands/revoke.js'
import { SESSION_ID_FORMAT, checkShowOptions, showCommand } from './commands/show.js'
import { checkStatsOptions, statsCommand } from './commands/stats.js'
import { connect, resolveTarget, type CliContext, type ConnectionOptions } from './connect.js'
import { EXIT, firstLine, toCliError, type ExitCode } from './errors.js'
import {
  formatCleanup,
  formatJson,
  formatList,
  formatRevoke,
  formatShow,
  formatStats,
  sanitize,
} from './output.js'

/** Where the CLI reads its environment and writes its output. */
export interface CliIo {
  stdout(text: string): void
  stderr(text: string): void
  /** Progress lines are only written to a terminal. */
  readonly stderrIsTTY: boolean
  readonly env: Readonly<Record<string, string | undefined>>
}

interface GlobalOptions extends ConnectionOptions {
  readonly json?: boolean | undefined
}

/** Runs one command line (without `node` and the script) and returns the exit code. */
export async function run(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const program = buildProgram(io)
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return EXIT.ok
  } catch (error) {
    // Commander has already printed its one-line message (or the help).
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage
    const cliError = toCliError(error)
    io.stderr(`sessionkit: ${sanitize(firstLine(cliError.message))}\n`)
    return cliError.exitCode
  }
}

/** The command line: global options, then one command per admin operation. */
export function buildProgram(io: CliIo): Command {
  const program = new Command('sessionkit')
    .description('Inspect, revoke and clean up sessionkit sessions in Redis.')
    .version(version(), '-V, --version')
    .option('--redis <url>', 'Redis URL (default: $REDIS_URL, else redis://127.0.0.1:6379)')
    .option('--cluster <host:port,...>', 'Redis Cluster seed nodes, comma-separated')
    .option('--prefix <prefix>', 'key prefix the application uses (default: "sk:")')
    .option('--json', 'print the result as JSON, for scripts')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(text),
      // Commander's own errors get the same one-line `sessionkit: ` form as every other error.
      outputError: (text, write) => write(`sessionkit: ${sanitize(oneLine(text.replace(/^error: /, '')))}\n`),
    })
  addListCommand(program, io)
  addShowCommand(program, io)
  addRevokeCommand(program, io)
  addCleanupCommand(program, io)
  addStatsCommand(program, io)
  return program
}

function addListCommand(program: Command, io: CliIo): void {
  program
    .command('list')
    .description("list a user's sessions")
    .requiredOption('-u, --user <id>', 'user id')
    .action(async (options: { user: string }, command: Command) => {
      checkListOptions(options)
      await execute(io, command, (ctx) => listCommand(ctx, options), formatList)
    })
}

function addShowCommand(program: Command, io: CliIo): void {
  program
    .command('show')
    .description("show one session's metadata, data and TTL")
    .argument('<SESSION_ID>', `session id (${SESSION_ID_FORMAT}), as \`list\` shows it`)
    .action(async (sessionId: string, _options: object, command: Command) => {
      checkShowOptions({ sessionId })
      await execute(io, command, (ctx) => showCommand(ctx, { sessionId }), formatShow)
    })
}

function addRevokeCommand(program: Command, io: CliIo): void {
  program
    .command('revoke')
    .description('revoke one session, or all sessions of a user')
    .argument('[SESSION_ID]', `the session to revoke (${SESSION_ID_FORMAT})`)
    .option('-u, --user <id>', "revoke this user's sessions (all of them without SESSION_ID)")
    .option('--except <SESSION_ID>', 'with --user: keep this session')
    .action(
      async (
        sessionId: string | undefined,
        options: { user?: string; except?: string },
        command: Command,
      ) => {
        const input = { sessionId, user: options.user, except: options.except }
        checkRevokeOptions(input)
        await execute(io, command, (ctx) => revokeCommand(ctx, input), formatRevoke)
      },
    )
}

function addCleanupCommand(program: Command, io: CliIo): void {
  program
    .command('cleanup')
    .description('prune stale index entries and enforce the per-user cap (one user, or all users)')
    .option('-u, --user <id>', 'only this user')
    .option('--dry-run', 'count only, write nothing')
    .option('--max-sessions <n>', 'per-user cap to enforce (default: 100)', integer)
    .action(async (options: { user?: string; dryRun?: boolean; maxSessions?: number }, command: Command) => {
      const input = { user: options.user, dryRun: options.dryRun, maxSessions: options.maxSessions }
      checkCleanupOptions(input)
      await execute(io, command, (ctx) => cleanupCommand(ctx, input), formatCleanup)
    })
}

function addStatsCommand(program: Command, io: CliIo): void {
  program
    .command('stats')
    .description('totals, sessions by browser/OS/device, memory by key family, top users')
    .option('--top <n>', 'users listed by session count (default: 10)', integer)
    .option('--samples <n>', 'keys per family whose MEMORY USAGE is read (default: 200)', integer)
    .action(async (options: { top?: number; samples?: number }, command: Command) => {
      checkStatsOptions(options)
      await execute(io, command, (ctx) => statsCommand(ctx, options), formatStats)
    })
}

/** Commander's multi-line messages ("unknown command 'lst'" + "(Did you mean list?)") as one line. */
function oneLine(text: string): string {
  return text
    .trim()
    .split(/\s*\n\s*/)
    .join(' ')
}

/** Connects, runs the command, prints its result, and always closes the connection. */
async function execute<R>(
  io: CliIo,
  command: Command,
  work: (ctx: CliContext) => Promise<R>,
  format: (result: R) => string,
): Promise<void> {
  const globals = command.optsWithGlobals<GlobalOptions>()
  const target = resolveTarget(globals, io.env)
  const connection = await connect(target, io.env)
  let progressShown = false
  const progress = io.stderrIsTTY
    ? (line: string): void => {
        progressShown = true
        io.stderr(`\r${sanitize(line)}\u001b[K`)
      }
    : undefined
  let result: R
  try {
    result = await work({ store: connection.store, progress })
  } finally {
    if (progressShown) io.stderr('\n')
    await connection.close()
  }
  io.stdout(globals.json === true ? formatJson(result) : format(result))
}

function integer(value: string): number {
  if (!/^\d{1,9}$/.test(value)) throw new InvalidArgumentError('must be a non-negative integer')
  return Number(value)
}

function version(): string {
  try {
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8')
    const parsed = JSON.parse(text) as { version?: unknown }
    return typeof parsed.version === 'string' ? parsed.version : 'unknown'
  } catch {
    return 'unknown'
  }
}
