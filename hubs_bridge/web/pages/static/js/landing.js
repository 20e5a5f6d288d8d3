// The list of events: rendered by the server in the chosen language; the titles come
// from there too, so a language switch loads the list again in the new language.
import { onLangChange } from "./common.js";

onLangChange(() => window.location.reload());
