package journey_test

import "html"

func htmlUnescape(s string) string { return html.UnescapeString(s) }
