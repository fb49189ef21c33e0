package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app"
)

func orgReviewPolicy(fs *flag.FlagSet) func(context.Context, *app.App, string, *output) error {
	policy := fs.String("policy", "", "always, on_failure or never")
	return func(ctx context.Context, a *app.App, key string, out *output) error {
		if err := required("policy", *policy); err != nil {
			return err
		}
		if err := a.Verify.SetReviewPolicy(ctx, key, *policy); err != nil {
			return err
		}
		return out.print(map[string]string{"organization": key, "reviewPolicy": *policy}, func(w io.Writer) {
			fmt.Fprintf(w, "%s: review policy %s\n", key, *policy)
		})
	}
}

func sourcesList(fs *flag.FlagSet) func(context.Context, *app.App, string, *output) error {
	return func(ctx context.Context, a *app.App, _ string, out *output) error {
		list, err := a.Verify.Sources(ctx)
		if err != nil {
			return err
		}
		return out.table(list, "ID\tSOURCE NAME\tKIND\tTYPE\tCATEGORY\tTEST ONLY", func(tw io.Writer) {
			for _, s := range list {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%v\n", s.ID, s.SourceName, s.Kind, s.VerificationTypeID, s.Category, s.TestOnly)
			}
		})
	}
}

func sourcesImport(fs *flag.FlagSet) func(context.Context, *app.App, string, *output) error {
	return func(ctx context.Context, a *app.App, file string, out *output) error {
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		list, err := a.Verify.ImportSources(ctx, data)
		if err != nil {
			return err
		}
		return out.print(list, func(w io.Writer) {
			for _, s := range list {
				fmt.Fprintf(w, "imported %s (id %d)\n", s.SourceName, s.ID)
			}
		})
	}
}

func sourcesEnable(enabled bool) func(fs *flag.FlagSet) func(context.Context, *app.App, string, *output) error {
	return func(fs *flag.FlagSet) func(context.Context, *app.App, string, *output) error {
		org := fs.String("org", "", "organization key (its institutions follow unless they say otherwise)")
		source := fs.String("source", "", "source name, e.g. PayPal")
		return func(ctx context.Context, a *app.App, _ string, out *output) error {
			if err := required("org", *org, "source", *source); err != nil {
				return err
			}
			if err := a.Verify.SetSourceEnabled(ctx, *org, *source, enabled); err != nil {
				return err
			}
			return out.print(map[string]any{"organization": *org, "source": *source, "enabled": enabled}, func(w io.Writer) {
				fmt.Fprintf(w, "%s: %s %s\n", *org, *source, map[bool]string{true: "enabled", false: "disabled"}[enabled])
			})
		}
	}
}

func proofSandbox(fs *flag.FlagSet) func(context.Context, *app.App, string, *output) error {
	step := fs.String("step", "", "step id")
	return func(ctx context.Context, a *app.App, _ string, out *output) error {
		id, err := strconv.ParseInt(strings.TrimSpace(*step), 10, 64)
		if err != nil || id <= 0 {
			return usagef("--step must be a step id")
		}
		p, err := a.Verify.SandboxProof(ctx, id)
		if verigate.ErrorCode(err) == verigate.ENOTFOUND {
			return verigate.Errorf(verigate.ENOTFOUND, "Step %d not found.", id)
		} else if err != nil {
			return err
		}
		// The proof is JSON either way: it is pasted into /partner/step/submit.
		out.json = true
		return out.print(p, nil)
	}
}
