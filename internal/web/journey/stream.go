package journey

import (
	"fmt"
	"net/http"
	"time"
)

// StreamLife bounds one live-progress stream; the page's script reloads
// when it ends, and opens another.
var StreamLife = 5 * time.Minute

// events streams the progress page's state (Server-Sent Events, event
// "state") whenever it changes, read every second; the page reloads on a
// change. It reads with the same use case as the page.
func (h *Handler) events(q *req) error {
	id, err := pathID(q.r, "sessionId")
	if err != nil {
		return err
	}
	j, err := h.Verification.Journey(q.ctx, id, "") // authorizes before the stream starts
	if err != nil {
		return err
	}
	rc := http.NewResponseController(q.w)
	rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	hd := q.w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("X-Accel-Buffering", "no")
	q.w.WriteHeader(http.StatusOK)
	fmt.Fprint(q.w, "retry: 3000\n\n")
	last := ""
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	end := time.NewTimer(StreamLife)
	defer end.Stop()
	for {
		if s := state(j); s != last {
			fmt.Fprintf(q.w, "event: state\ndata: %s\n\n", s)
			last = s
		}
		if err := rc.Flush(); err != nil || !j.Open {
			return nil
		}
		select {
		case <-q.ctx.Done():
			return nil
		case <-h.Draining:
			return nil
		case <-end.C:
			return nil
		case <-tick.C:
		}
		if j, err = h.Verification.Journey(q.ctx, id, ""); err != nil {
			return nil // the page's script reloads, and the page says what is wrong
		}
	}
}
