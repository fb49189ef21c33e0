package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app"
)

// orgJourney sets an organization's hosted-journey settings.
func orgJourney(fs *flag.FlagSet) func(context.Context, *app.App, string, *output) error {
	logo := fs.String("logo-url", "", "an https URL of the logo shown on the journey's pages")
	frames := fs.String("frame-ancestors", "", "https origins allowed to embed the pages in a frame, comma-separated")
	return func(ctx context.Context, a *app.App, key string, out *output) error {
		j := verigate.JourneySettings{LogoURL: strings.TrimSpace(*logo), FrameAncestors: []string{}}
		for _, o := range strings.Split(*frames, ",") {
			if o = strings.TrimSpace(o); o != "" {
				j.FrameAncestors = append(j.FrameAncestors, strings.TrimSuffix(o, "/"))
			}
		}
		if err := a.Verify.SetJourneySettings(ctx, key, j); err != nil {
			return err
		}
		return out.print(map[string]any{"organization": key, "journey": j}, func(w io.Writer) {
			fmt.Fprintf(w, "%s: journey logo %q, frame ancestors %q\n", key, j.LogoURL, strings.Join(j.FrameAncestors, " "))
		})
	}
}
