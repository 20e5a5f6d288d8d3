// Pages drawn entirely by the server (the list of events, /go's door pages): their
// texts include titles in the chosen language, so a language switch draws them again.
import { onLangChange } from "./common.js";

onLangChange(() => window.location.reload());
