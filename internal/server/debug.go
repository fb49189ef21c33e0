package server

import (
	"net/http"
	"net/http/pprof"
)

// DebugHandler serves Go's profiles (/debug/pprof/…). It is mounted only
// on the opt-in admin listener (VERIGATE_DEBUG_ADDR), never on the public
// one: profiles show code paths and memory.
func DebugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}
