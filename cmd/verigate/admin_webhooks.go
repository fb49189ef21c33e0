package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app"
	"github.com/verigate/verigate/internal/delivery"
)

func init() {
	adminCmds["webhook create"] = adminCmd{setup: webhookCreate}
	adminCmds["webhook list"] = adminCmd{setup: webhookList}
}

// webhookPrincipal is the CLI acting in org's mode: an endpoint belongs to
// one mode, and a system principal lists its own organization's.
func webhookPrincipal(ctx context.Context, a *app.App, orgKey, mode string) (context.Context, *verigate.Organization, error) {
	if mode != string(verigate.ModeLive) && mode != string(verigate.ModeTest) {
		return nil, nil, usagef("--mode must be live or test")
	}
	o, err := a.Access.Organization(ctx, orgKey)
	if err != nil {
		return nil, nil, err
	}
	p := *cliPrincipal
	p.Mode, p.OrgID = verigate.Mode(mode), o.ID
	return verigate.WithPrincipal(ctx, &p), o, nil
}

func webhookCreate(fs *flag.FlagSet) func(context.Context, *app.App, string, *output) error {
	org := fs.String("org", "", "organization key")
	url := fs.String("url", "", "where messages are POSTed (http or https)")
	mode := fs.String("mode", "live", "live or test: the mode of the events it receives")
	events := fs.String("events", "", "event types separated by commas (default: every type)")
	children := fs.Bool("include-children", false, "a reseller's endpoint also receives its institutions' events")
	description := fs.String("description", "", "a description")
	return func(ctx context.Context, a *app.App, _ string, out *output) error {
		if err := required("org", *org, "url", *url); err != nil {
			return err
		}
		ctx, o, err := webhookPrincipal(ctx, a, *org, *mode)
		if err != nil {
			return err
		}
		in := delivery.EndpointInput{OrgID: o.ID, URL: *url, Description: *description, IncludeChildren: *children}
		for _, t := range splitList(*events) {
			in.EventTypes = append(in.EventTypes, verigate.EventType(t))
		}
		got, err := a.Webhooks.Create(ctx, in)
		if err != nil {
			return err
		}
		ep := got.Endpoint
		return out.print(map[string]any{"id": ep.ID, "organization": *org, "url": ep.URL, "mode": ep.Mode,
			"eventTypes": eventTypes(ep), "includeChildren": ep.IncludeChildren, "secret": got.Secret},
			func(w io.Writer) {
				fmt.Fprintf(w, "Webhook endpoint %s for %s (%s mode, %s) → %s; its signing secret (shown once):\n%s\n",
					ep.ID, *org, ep.Mode, strings.Join(eventTypes(ep), ","), ep.URL, got.Secret)
			})
	}
}

func webhookList(fs *flag.FlagSet) func(context.Context, *app.App, string, *output) error {
	org := fs.String("org", "", "organization key")
	mode := fs.String("mode", "live", "live or test")
	return func(ctx context.Context, a *app.App, _ string, out *output) error {
		if err := required("org", *org); err != nil {
			return err
		}
		ctx, _, err := webhookPrincipal(ctx, a, *org, *mode)
		if err != nil {
			return err
		}
		var all []*verigate.WebhookEndpoint
		for after := ""; ; {
			page, err := a.Webhooks.List(ctx, after, 100)
			if err != nil {
				return err
			}
			all = append(all, page...)
			if len(page) < 100 {
				break
			}
			after = page[len(page)-1].ID
		}
		rows := make([]map[string]any, len(all))
		for i, ep := range all {
			rows[i] = map[string]any{"id": ep.ID, "url": ep.URL, "mode": ep.Mode, "eventTypes": eventTypes(ep),
				"includeChildren": ep.IncludeChildren, "enabled": ep.Enabled, "disabledReason": ep.DisabledReason,
				"createdAt": ep.CreatedAt}
		}
		return out.table(rows, "ID\tURL\tMODE\tEVENTS\tENABLED\tCREATED", func(tw io.Writer) {
			for _, ep := range all {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%t\t%s\n", ep.ID, ep.URL, ep.Mode, strings.Join(eventTypes(ep), ","),
					ep.Enabled, ep.CreatedAt.Format(time.RFC3339))
			}
		})
	}
}

// eventTypes names what an endpoint receives; "*" is every type.
func eventTypes(ep *verigate.WebhookEndpoint) []string {
	if len(ep.EventTypes) == 0 {
		return []string{"*"}
	}
	out := make([]string, len(ep.EventTypes))
	for i, t := range ep.EventTypes {
		out[i] = string(t)
	}
	return out
}
