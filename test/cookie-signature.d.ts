// cookie-signature (express-session's signer) ships no types: the two functions the migration tests use.
declare module 'cookie-signature' {
  export function sign(value: string, secret: string): string
  export function unsign(input: string, secret: string): string | false
}
