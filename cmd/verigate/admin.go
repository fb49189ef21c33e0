package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app"
	"github.com/verigate/verigate/internal/config"
	"github.com/verigate/verigate/internal/webhook"
)

const adminUsage = `Usage: verigate admin <command> [flags]   (every command takes --json)

  org create --kind reseller|institution --key K --name N [--parent KEY] [--core NAME]
  org list [--kind K] [--parent KEY]
  org disable KEY
  user create --org KEY --email E --username U --role R[,R…] [--service-account] [--password-file F]
              (without --password-file the password is read from standard input)
  user list --org KEY
  access-token issue --org KEY         prints the token once
  access-token list --org KEY
  access-token revoke ID
  api-key create --org KEY --user EMAIL --scopes s1,s2 [--accounts KEY|ID,…] [--mode live|test]
                 [--name N] [--rate-limit TTL,LIMIT,BLOCK] [--expires-in DURATION]   prints the key once
  api-key list --org KEY
  api-key revoke ID
  audit list [--org KEY] [--action A] [--limit N]
  org review-policy KEY --policy always|on_failure|never   when finished sessions go to the reviewer queue
  org journey KEY [--logo-url URL] [--frame-ancestors ORIGIN,…]   the hosted journey's logo, and who may frame it
                 (each flag left out clears it: no logo, no framing)
  sources list                          the data-source catalog
  sources import FILE                   add or update sources from a JSON file ({"sources":[…]})
  sources enable|disable --org KEY --source NAME
  proof sandbox --step ID               a sandbox-signed Reclaim proof for a test-mode step
  call simulate --institution KEY --phone +1… [--name NAME]   put a sandbox call into the queue
  call ingest-secret --institution KEY   the secret a telephony integration signs call reports with
  webhook create --org KEY --url URL [--mode live|test] [--events t1,t2] [--include-children]
                 [--description D]   prints the signing secret once
  webhook list --org KEY [--mode live|test]

Roles: owner, admin, operator, reviewer, developer, viewer.
`

// cliPrincipal is who the admin CLI acts as in the audit log.
var cliPrincipal = &verigate.Principal{Kind: verigate.PrincipalSystem, ID: "cli", Mode: verigate.ModeLive}

// adminCmd is one admin command: its flags, then what it does.
type adminCmd struct {
	positional string // name of the one positional argument, if any
	setup      func(fs *flag.FlagSet) func(ctx context.Context, a *app.App, arg string, out *output) error
}

var adminCmds = map[string]adminCmd{
	"org create":          {setup: orgCreate},
	"org list":            {setup: orgList},
	"org disable":         {positional: "KEY", setup: orgDisable},
	"user create":         {setup: userCreate},
	"user list":           {setup: userList},
	"access-token issue":  {setup: tokenIssue},
	"access-token list":   {setup: tokenList},
	"access-token revoke": {positional: "ID", setup: tokenRevoke},
	"api-key create":      {setup: keyCreate},
	"api-key list":        {setup: keyList},
	"api-key revoke":      {positional: "ID", setup: keyRevoke},
	"audit list":          {setup: auditList},
	"call simulate":       {setup: callSimulate},
	"org review-policy":   {positional: "KEY", setup: orgReviewPolicy},
	"org journey":         {positional: "KEY", setup: orgJourney},
	"sources list":        {setup: sourcesList},
	"sources import":      {positional: "FILE", setup: sourcesImport},
	"sources enable":      {setup: sourcesEnable(true)},
	"sources disable":     {setup: sourcesEnable(false)},
	"proof sandbox":       {setup: proofSandbox},
	"call ingest-secret":  {setup: callIngestSecret},
}

// output prints either JSON or text.
type output struct {
	json  bool
	w     io.Writer
	stdin io.Reader
}

// table prints v as JSON, or as aligned columns: the tab-separated header,
// then the lines rows writes.
func (o *output) table(v any, header string, rows func(tw io.Writer)) error {
	return o.print(v, func(w io.Writer) {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, header)
		rows(tw)
		tw.Flush()
	})
}

func (o *output) print(v any, text func(w io.Writer)) error {
	if o.json {
		return printJSON(o.w, v)
	}
	text(o.w)
	return nil
}

func admin(ctx context.Context, args []string, e *env) error {
	switch {
	case len(args) == 0:
		return usagef("admin: name a command; run 'verigate admin help'")
	case isHelp(args[0]):
		if len(args) > 1 && !isHelp(args[1]) { // verigate admin help GROUP …
			return admin(ctx, append(slices.Clone(args[1:]), "--help"), e)
		}
		fmt.Fprint(e.stdout, adminUsage)
		return flag.ErrHelp
	}
	group := args[0]
	lines := adminLines(group)
	if lines == "" {
		return usagef("admin: unknown command %q; run 'verigate admin help'", group)
	}
	switch {
	case len(args) == 1:
		return usagef("admin %s: name a command; run 'verigate admin %s help'", group, group)
	case isHelp(args[1]):
		fmt.Fprintf(e.stdout, "Usage: verigate admin %s <command> [flags]   (every command takes --json)\n\n%s", group, lines)
		return flag.ErrHelp
	}
	name := group + " " + args[1]
	cmd, ok := adminCmds[name]
	if !ok {
		return usagef("admin: unknown command %q; run 'verigate admin %s help'", name, group)
	}
	synopsis, about := adminSynopsis(adminLines(name))
	c := newCmdline("admin "+name, synopsis, about, e)
	c.helpWord = cmd.positional == "" // a positional argument may be named "help"
	asJSON := c.Bool("json", false, "print JSON")
	do := cmd.setup(c.FlagSet)
	if err := c.parse(args[2:]); err != nil {
		return err
	}
	var arg string
	if cmd.positional != "" {
		// The positional argument may stand before or after the flags.
		if c.NArg() == 0 {
			return usagef("admin %s: missing %s", name, cmd.positional)
		}
		arg = c.Arg(0)
		if err := c.parse(c.Args()[1:]); err != nil {
			return err
		}
	}
	cfg, err := c.loadPrepared()
	if err != nil {
		return err
	}
	a, err := openQuiet(ctx, cfg, e)
	if err != nil {
		return err
	}
	defer a.Close()
	return do(verigate.WithPrincipal(ctx, cliPrincipal), a, arg, &output{json: *asJSON, w: e.stdout, stdin: e.stdin})
}

// adminLines returns the lines of adminUsage that describe the commands
// of a group ("org") or one command ("org create"), continuation lines
// included.
func adminLines(prefix string) string {
	want := strings.Fields(prefix)
	var b strings.Builder
	in := false
	for _, line := range strings.SplitAfter(adminUsage, "\n") {
		words := strings.Fields(line)
		switch indent := len(line) - len(strings.TrimLeft(line, " ")); {
		case len(words) == 0 || indent < 2:
			in = false
		case indent == 2: // a command's first line: "group cmd[|cmd] …"
			in = len(want) > 0 && words[0] == want[0] &&
				(len(want) == 1 || len(words) > 1 && slices.Contains(strings.Split(words[1], "|"), want[1]))
		}
		if in {
			b.WriteString(line)
		}
	}
	return b.String()
}

// adminSynopsis splits a command's usage lines into its synopsis (what
// follows the command's name) and its description, which stands after a
// run of three or more spaces.
func adminSynopsis(lines string) (synopsis, about string) {
	var syn, desc []string
	for _, line := range strings.Split(strings.TrimSpace(lines), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "(") { // a note under the command
			desc = append(desc, strings.Trim(line, "()"))
			continue
		}
		if i := strings.Index(line, "   "); i >= 0 {
			desc = append(desc, strings.TrimSpace(line[i:]))
			line = line[:i]
		}
		syn = append(syn, line)
	}
	words := strings.Fields(strings.Join(syn, " "))
	if len(words) >= 2 {
		words = words[2:] // the group and the command
	}
	about = strings.Join(desc, "; ")
	if about != "" {
		about = strings.ToUpper(about[:1]) + about[1:] + "."
	}
	return strings.Join(words, " "), about
}

// openQuiet opens the app with warnings-only logging.
func openQuiet(ctx context.Context, cfg *config.Config, e *env) (*app.App, error) {
	cfg.LogLevel = max(cfg.LogLevel, 4) // slog.LevelWarn
	return app.Open(ctx, cfg, cfg.Logger(e.stderr))
}

// required checks flags given as name, value pairs, in that order, so the
// first missing one is named.
func required(namesAndValues ...string) error {
	for i := 0; i+1 < len(namesAndValues); i += 2 {
		if strings.TrimSpace(namesAndValues[i+1]) == "" {
			return usagef("--%s is required", namesAndValues[i])
		}
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func orgCreate(fs *flag.FlagSet) func(context.Context, *app.App, string, *output) error {
	kind := fs.String("kind", "", "reseller or institution")
	key := fs.String("key", "", "the organization key (slug)")
	name := fs.String("name", "", "display name")
	parent := fs.String("parent", "", "parent organization key (an institution's reseller)")
	core := fs.String("core", "", "the institution's core banking system")
	return func(ctx context.Context, a *app.App, _ string, out *output) error {
		if err := required("kind", *kind, "key", *key, "name", *name); err != nil {
			return err
		}
		o, err := a.Access.CreateOrganization(ctx, access.OrgInput{Kind: verigate.OrgKind(*kind), Key: *key, Name: *name, ParentKey: *parent, Core: *core})
		if err != nil {
			return err
		}
		return out.print(o, func(w io.Writer) { fmt.Fprintf(w, "created %s %s (%s)\n", o.Kind, o.Key, o.ID) })
	}
}

func orgList(fs *flag.FlagSet) func(context.Context, *app.App, string, *output) error {
	kind := fs.String("kind", "", "only this kind")
	parent := fs.String("parent", "", "only children of this organization key")
	return func(ctx context.Context, a *app.App, _ string, out *output) error {
		f := verigate.OrgFilter{Kind: verigate.OrgKind(*kind)}
		if *parent != "" {
			p, err := a.Access.Organization(ctx, *parent)
			if err != nil {
				return err
			}
			f.ParentID = p.ID
		}
		orgs, err := a.Access.ListOrganizations(ctx, f)
		if err != nil {
			return err
		}
		if orgs == nil {
			orgs = []*verigate.Organization{}
		}
		keys := map[string]string{}
		for _, o := range orgs {
			keys[o.ID] = o.Key
		}
		return out.table(orgs, "KEY\tKIND\tNAME\tPARENT\tCORE\tSTATUS", func(tw io.Writer) {
			for _, o := range orgs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", o.Key, o.Kind, o.Name, keys[o.ParentID], o.Core, o.Status)
			}
		})
	}
}

func orgDisable(fs *flag.FlagSet) func(context.Context, *app.App, string, *output) error {
	return func(ctx context.Context, a *app.App, key string, out *output) error {
		o, err := a.Access.DisableOrganization(ctx, key)
		if err != nil {
			return err
		}
		return out.print(o, func(w io.Writer) { fmt.Fprintf(w, "disabled %s\n", o.Key) })
	}
}

func userCreate(fs *flag.FlagSet) func(context.Context, *app.App, string, *output) error {
	org := fs.String("org", "", "organization key")
	email := fs.String("email", "", "email address")
	username := fs.String("username", "", "operator name (sent as RequestedBy)")
	role := fs.String("role", "", "role, or roles separated by commas")
	svc := fs.Bool("service-account", false, "a service account (signs in only with an onboarding access token)")
	pwFile := fs.String("password-file", "", "file holding the password (default: read standard input)")
	return func(ctx context.Context, a *app.App, _ string, out *output) error {
		if err := required("org", *org, "email", *email, "username", *username, "role", *role); err != nil {
			return err
		}
		pw, err := readPassword(*pwFile, out.stdin)
		if err != nil {
			return err
		}
		u, err := a.Access.CreateUser(ctx, access.UserInput{OrgKey: *org, Email: *email, Username: *username,
			Password: pw, Roles: splitList(*role), ServiceAccount: *svc})
		if err != nil {
			return err
		}
		return out.print(u, func(w io.Writer) { fmt.Fprintf(w, "created user %s (%s) in %s\n", u.Email, u.ID, *org) })
	}
}

// readPassword reads a password from a file or from r, dropping one
// trailing newline; nothing else is trimmed.
func readPassword(file string, r io.Reader) (string, error) {
	var b []byte
	var err error
	if file != "" {
		b, err = os.ReadFile(file)
	} else {
		b, err = io.ReadAll(io.LimitReader(bufio.NewReader(r), 8<<10))
	}
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if s == "" {
		return "", usagef("no password given: pass --password-file or write it to standard input")
	}
	return s, nil
}

func userList(fs *flag.FlagSet) func(context.Context, *app.App, string, *output) error {
	org := fs.String("org", "", "organization key")
	return func(ctx context.Context, a *app.App, _ string, out *output) error {
		if err := required("org", *org); err != nil {
			return err
		}
		users, err := a.Access.ListUsers(ctx, *org)
		if err != nil {
			return err
		}
		return out.table(users, "EMAIL\tUSERNAME\tROLES\tSERVICE ACCOUNT\tSTATUS", func(tw io.Writer) {
			for _, u := range users {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\n", u.Email, u.Username, strings.Join(u.Roles, ","), u.ServiceAccount, u.Status)
			}
		})
	}
}

func tokenIssue(fs *flag.FlagSet) func(context.Context, *app.App, string, *output) error {
	org := fs.String("org", "", "reseller key")
	return func(ctx context.Context, a *app.App, _ string, out *output) error {
		if err := required("org", *org); err != nil {
			return err
		}
		secret, t, err := a.Access.IssueAccessToken(ctx, *org)
		if err != nil {
			return err
		}
		return out.print(map[string]any{"id": t.ID, "organization": *org, "accessToken": secret, "createdAt": t.CreatedAt},
			func(w io.Writer) {
				fmt.Fprintf(w, "access token %s for %s (shown once; send it as the accessToken header):\n%s\n", t.ID, *org, secret)
			})
	}
}

func tokenList(fs *flag.FlagSet) func(context.Context, *app.App, string, *output) error {
	org := fs.String("org", "", "reseller key")
	return func(ctx context.Context, a *app.App, _ string, out *output) error {
		if err := required("org", *org); err != nil {
			return err
		}
		list, err := a.Access.ListAccessTokens(ctx, *org)
		if err != nil {
			return err
		}
		if list == nil {
			list = []*verigate.AccessToken{}
		}
		return out.table(list, "ID\tCREATED\tLAST USED\tREVOKED", func(tw io.Writer) {
			for _, t := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.ID, stamp(&t.CreatedAt), stamp(t.LastUsedAt), stamp(t.RevokedAt))
			}
		})
	}
}

func stamp(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func tokenRevoke(fs *flag.FlagSet) func(context.Context, *app.App, string, *output) error {
	return func(ctx context.Context, a *app.App, id string, out *output) error {
		if err := a.Access.RevokeAccessToken(ctx, id); err != nil {
			return err
		}
		return out.print(map[string]any{"id": id, "revoked": true}, func(w io.Writer) { fmt.Fprintf(w, "revoked access token %s\n", id) })
	}
}

// parseRateLimit reads "TTL,LIMIT,BLOCK", e.g. "60s,100,60s".
func parseRateLimit(s string) (*verigate.RateLimitPolicy, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return nil, usagef("--rate-limit: want TTL,LIMIT,BLOCK such as 60s,100,60s")
	}
	ttl, err1 := time.ParseDuration(parts[0])
	limit, err2 := strconv.Atoi(parts[1])
	block, err3 := time.ParseDuration(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, usagef("--rate-limit: want TTL,LIMIT,BLOCK such as 60s,100,60s")
	}
	return &verigate.RateLimitPolicy{TTL: ttl, Limit: limit, BlockDuration: block}, nil
}

func keyCreate(fs *flag.FlagSet) func(context.Context, *app.App, string, *output) error {
	org := fs.String("org", "", "organization key")
	user := fs.String("user", "", "email of the user the key acts as")
	scopes := fs.String("scopes", "", "scopes separated by commas, e.g. otp:write,status:read")
	accounts := fs.String("accounts", "", "restrict the key to these organizations (keys or ids) or accounts (connection ids)")
	mode := fs.String("mode", "live", "live or test")
	name := fs.String("name", "", "a label")
	rl := fs.String("rate-limit", "", "TTL,LIMIT,BLOCK (default 60s,100,60s)")
	expiresIn := fs.Duration("expires-in", 0, "expire after this long (default: never)")
	return func(ctx context.Context, a *app.App, _ string, out *output) error {
		if err := required("org", *org, "user", *user, "scopes", *scopes); err != nil {
			return err
		}
		accountIDs, err := resolveAccounts(ctx, a, splitList(*accounts))
		if err != nil {
			return err
		}
		in := access.APIKeyInput{OrgKey: *org, UserEmail: *user, Name: *name, Scopes: splitList(*scopes),
			Accounts: accountIDs, Mode: verigate.Mode(*mode)}
		if *rl != "" {
			p, err := parseRateLimit(*rl)
			if err != nil {
				return err
			}
			in.RateLimit = p
		}
		if *expiresIn < 0 {
			return usagef("--expires-in must be positive")
		}
		if *expiresIn > 0 {
			t := a.Access.Now().Add(*expiresIn)
			in.ExpiresAt = &t
		}
		secret, k, err := a.Access.CreateAPIKey(ctx, in)
		if err != nil {
			return err
		}
		return out.print(map[string]any{"id": k.ID, "key": secret, "organization": *org, "scopes": k.Scopes,
			"accounts": k.Accounts, "mode": k.Mode, "rateLimit": k.RateLimit, "expiresAt": k.ExpiresAt},
			func(w io.Writer) {
				fmt.Fprintf(w, "API key %s for %s, scopes %s, mode %s (shown once):\n%s\n", k.ID, *org, strings.Join(k.Scopes, ","), k.Mode, secret)
			})
	}
}

func keyList(fs *flag.FlagSet) func(context.Context, *app.App, string, *output) error {
	org := fs.String("org", "", "organization key")
	return func(ctx context.Context, a *app.App, _ string, out *output) error {
		if err := required("org", *org); err != nil {
			return err
		}
		keys, err := a.Access.ListAPIKeys(ctx, *org)
		if err != nil {
			return err
		}
		if keys == nil {
			keys = []*verigate.APIKey{}
		}
		return out.table(keys, "ID\tNAME\tSCOPES\tMODE\tCREATED\tLAST USED\tEXPIRES\tREVOKED", func(tw io.Writer) {
			for _, k := range keys {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, strings.Join(k.Scopes, ","), k.Mode,
					stamp(&k.CreatedAt), stamp(k.LastUsedAt), stamp(k.ExpiresAt), stamp(k.RevokedAt))
			}
		})
	}
}

func keyRevoke(fs *flag.FlagSet) func(context.Context, *app.App, string, *output) error {
	return func(ctx context.Context, a *app.App, id string, out *output) error {
		if err := a.Access.RevokeAPIKey(ctx, id); err != nil {
			return err
		}
		return out.print(map[string]any{"id": id, "revoked": true}, func(w io.Writer) { fmt.Fprintf(w, "revoked API key %s\n", id) })
	}
}

func auditList(fs *flag.FlagSet) func(context.Context, *app.App, string, *output) error {
	org := fs.String("org", "", "only events of this organization key")
	action := fs.String("action", "", "only this action, e.g. user.create")
	limit := fs.Int("limit", 50, "at most this many events (1-1000)")
	return func(ctx context.Context, a *app.App, _ string, out *output) error {
		if *limit < 1 || *limit > 1000 {
			return usagef("--limit must be between 1 and 1000")
		}
		f := verigate.AuditFilter{Action: *action, Limit: *limit}
		if *org != "" {
			o, err := a.Access.Organization(ctx, *org)
			if err != nil {
				return err
			}
			f.OrgID = o.ID
		}
		evs, err := a.Access.AuditEvents(ctx, f)
		if err != nil {
			return err
		}
		if evs == nil {
			evs = []verigate.AuditEvent{}
		}
		return out.table(evs, "AT\tACTION\tOUTCOME\tACTOR\tREQUESTED BY\tTARGET", func(tw io.Writer) {
			for _, ev := range evs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s:%s\t%s\t%s:%s\n", ev.At.Format(time.RFC3339), ev.Action, ev.Outcome,
					ev.ActorKind, ev.ActorID, ev.RequestedBy, ev.TargetKind, ev.TargetID)
			}
		})
	}
}

func callSimulate(fs *flag.FlagSet) func(context.Context, *app.App, string, *output) error {
	inst := fs.String("institution", "", "institution key")
	phone := fs.String("phone", "", "the caller's phone number")
	name := fs.String("name", "", "the caller's name")
	return func(ctx context.Context, a *app.App, _ string, out *output) error {
		if err := required("institution", *inst, "phone", *phone); err != nil {
			return err
		}
		o, err := a.Access.Organization(ctx, *inst)
		if err != nil {
			return err
		}
		c, err := a.Calls.Simulate(ctx, o, *phone, *name)
		if err != nil {
			return err
		}
		return out.print(map[string]any{"voiceId": c.VoiceID, "institution": o.Key, "phoneNumber": c.PhoneNumber,
			"callerName": c.CallerName, "risk": c.Risk, "status": c.Status},
			func(w io.Writer) {
				fmt.Fprintf(w, "queued call %s from %s (%s) at %s, risk %d %s\n", c.VoiceID, c.PhoneNumber, c.CallerName, o.Key, c.Risk.Score, c.Risk.Level)
			})
	}
}

func callIngestSecret(fs *flag.FlagSet) func(context.Context, *app.App, string, *output) error {
	inst := fs.String("institution", "", "institution key")
	return func(ctx context.Context, a *app.App, _ string, out *output) error {
		if err := required("institution", *inst); err != nil {
			return err
		}
		o, err := a.Access.Organization(ctx, *inst)
		if err != nil {
			return err
		}
		if o.Kind != verigate.OrgInstitution {
			return verigate.Errorf(verigate.EINVALID, "%q is a %s; calls are reported to institutions.", o.Key, o.Kind)
		}
		secret := webhook.FormatSecret(a.Calls.IngestSecret(o))
		url := a.Config.PublicURL + "/external/voice/" + o.Key + "/calls"
		return out.print(map[string]string{"institution": o.Key, "secret": secret, "url": url}, func(w io.Writer) {
			fmt.Fprintf(w, "POST signed call reports to %s\nsigning secret (Standard Webhooks): %s\n", url, secret)
		})
	}
}
