// secret_text: a string variable whose value the API never echoes.
export const type = "secret_text";
export { add } from "./plain_text.js";
