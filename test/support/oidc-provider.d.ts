// oidc-provider ships no type declarations; the tests use it as a black-box authorization server.
declare module 'oidc-provider' {
  const Provider: any;
  export const errors: any;
  export default Provider;
}
