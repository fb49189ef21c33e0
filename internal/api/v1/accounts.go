package v1

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/api/httpapi"
	"github.com/verigate/verigate/internal/connect"
)

type accountJSON struct {
	AccountID      string          `json:"account_id"`
	SourceID       int64           `json:"source_id"`
	Label          string          `json:"label"`
	Status         string          `json:"status"`
	SessionRunning bool            `json:"session_running"`
	FailureReason  *string         `json:"failure_reason"`
	Data           json.RawMessage `json:"data"`
	Mode           string          `json:"mode"`
	CreatedAt      string          `json:"created_at"`
	UpdatedAt      string          `json:"updated_at"`
	ConnectedAt    *string         `json:"connected_at"`
}

func toAccount(c *verigate.Connection) accountJSON {
	a := accountJSON{AccountID: c.ID, SourceID: c.SourceID, Label: c.Label, Status: string(c.Status), SessionRunning: c.Status.SessionRunning(),
		Data: c.Data, Mode: string(c.Mode), CreatedAt: c.CreatedAt.UTC().Format(time.RFC3339), UpdatedAt: c.UpdatedAt.UTC().Format(time.RFC3339)}
	if len(a.Data) == 0 {
		a.Data = json.RawMessage("{}")
	}
	if c.FailureReason != "" {
		a.FailureReason = &c.FailureReason
	}
	if c.ConnectedAt != nil {
		s := c.ConnectedAt.UTC().Format(time.RFC3339)
		a.ConnectedAt = &s
	}
	return a
}

type createRequest struct {
	SourceID    int64             `json:"source_id"`
	Credentials map[string]string `json:"credentials"`
	Label       string            `json:"label"`
}

func (h *Handler) createAccount(w http.ResponseWriter, r *http.Request) error {
	var in createRequest
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	c, err := h.Connect.Create(r.Context(), connect.CreateInput{SourceID: in.SourceID, Credentials: in.Credentials, Label: in.Label})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, toAccount(c))
	return nil
}

func (h *Handler) listAccounts(w http.ResponseWriter, r *http.Request) error {
	limit, err := httpapi.QueryInt(r, "limit", 50)
	if err != nil {
		return err
	}
	offset, err := httpapi.QueryInt(r, "offset", 0)
	if err != nil {
		return err
	}
	list, err := h.Connect.List(r.Context(), limit, offset)
	if err != nil {
		return err
	}
	out := []accountJSON{}
	for _, c := range list {
		out = append(out, toAccount(c))
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"accounts": out, "limit": limit, "offset": offset})
	return nil
}

func (h *Handler) getAccount(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathUUID(r, "accountId")
	if err != nil {
		return err
	}
	c, err := h.Connect.Get(r.Context(), id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, toAccount(c))
	return nil
}

func (h *Handler) status(w http.ResponseWriter, r *http.Request) error {
	return httpapi.ServeAccountStatus(h.Connect, w, r)
}

func (h *Handler) submitOTP(w http.ResponseWriter, r *http.Request) error {
	return httpapi.ServeAccountOTP(h.Connect, w, r)
}

func (h *Handler) refresh(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathUUID(r, "accountId")
	if err != nil {
		return err
	}
	c, err := h.Connect.Refresh(r.Context(), id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusAccepted, toAccount(c))
	return nil
}

// events streams a connection's events as Server-Sent Events, from after
// Last-Event-ID (header or last_event_id query parameter) on.
func (h *Handler) events(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathUUID(r, "accountId")
	if err != nil {
		return err
	}
	var after int64
	lastID, err := httpapi.DataHeader(r, "Last-Event-ID")
	if err != nil {
		return err
	}
	if s := lastID; s != "" {
		if after, err = strconv.ParseInt(s, 10, 64); err != nil || after < 0 {
			return verigate.FieldError("Last-Event-ID", "must be an event id")
		}
	} else if s, err := httpapi.QueryString(r, "last_event_id"); err != nil {
		return err
	} else if s != "" {
		if after, err = strconv.ParseInt(s, 10, 64); err != nil || after < 0 {
			return verigate.FieldError("last_event_id", "must be an event id")
		}
	}
	ctx := r.Context()
	first, err := h.Connect.Events(ctx, id, after) // authorizes before the stream starts
	if err != nil {
		return err
	}
	release, err := h.openStream(verigate.PrincipalFrom(ctx).ID)
	if err != nil {
		return err
	}
	defer release()
	wake, cancel := h.Connect.Subscribe(id)
	defer cancel()
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	events := first
	heartbeat := time.NewTicker(15 * time.Second)
	defer heartbeat.Stop()
	poll := time.NewTicker(2 * time.Second) // another replica's changes, without a broker
	defer poll.Stop()
	for {
		for _, e := range events {
			fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.ID, e.Type, e.Data)
			after = e.ID
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-h.Draining:
			return nil
		case <-heartbeat.C:
			// A key revoked or expired, or a user disabled, ends the stream.
			if !h.stillAllowed(r, id) {
				return nil
			}
			fmt.Fprint(w, ": keep-alive\n\n")
		case <-wake:
		case <-poll.C:
		}
		if events, err = h.Connect.Events(ctx, id, after); err != nil {
			return nil // the client sees the stream end and reconnects with Last-Event-ID
		}
	}
}

// stillAllowed re-authenticates a long-lived request's key.
func (h *Handler) stillAllowed(r *http.Request, id string) bool {
	key, err := apiKey(r)
	if err != nil {
		return false
	}
	_, p, err := h.Access.VerifyAPIKey(r.Context(), key)
	return err == nil && h.Connect.Check(verigate.WithPrincipal(r.Context(), p), "status.read", id) == nil
}
