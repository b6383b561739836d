// `express4` is Express 4 installed under an npm alias (package.json), so the matrix can run Express 4 and 5
// side by side. Its API is typed like Express's.
declare module 'express4' {
  import express from 'express'
  export default express
}
