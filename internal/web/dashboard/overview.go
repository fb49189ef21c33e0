package dashboard

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/verigate/verigate"
)

// The overview's charts are drawn here as inline SVG: no script, no
// library. Each is an image with a text summary (its aria-label) and is
// followed by a table or legend of the same numbers, so that neither
// colour nor the drawing alone carries them. A chart is shown only to
// whoever holds the read permission behind its numbers.

// Chart periods.
const (
	chartDays        = 14 // verifications per day, and the funnel
	webhookStatsDays = 7
)

// statusColours colour the session statuses (with their names beside).
var statusColours = map[verigate.SessionStatus]string{
	verigate.SessionPending: "#9ca3af", verigate.SessionProcessing: "#2563eb", verigate.SessionReviewing: "#d97706",
	verigate.SessionCompleted: "#059669", verigate.SessionRejected: "#dc2626", verigate.SessionFailed: "#7f1d1d",
	verigate.SessionExpired: "#6b7280", verigate.SessionCancelled: "#374151",
}

// rect is one bar (or part of a stacked bar) of a chart.
type rect struct {
	X, Y, W, H  float64
	Fill, Title string
}

// label is a text of a chart.
type label struct {
	X, Y   float64
	Anchor string
	Text   string
}

// svgChart is a drawing: its size, bars and texts, and its summary.
type svgChart struct {
	W, H    float64
	Summary string
	Rects   []rect
	Labels  []label
}

// dayRow is a day of the per-day chart's table.
type dayRow struct {
	Day    time.Time
	Counts []int // by dayChart.Statuses
	Total  int
}

// dayChart is verifications per day by status.
type dayChart struct {
	SVG      svgChart
	Statuses []verigate.SessionStatus // those that occur, in order
	Colours  []string
	Rows     []dayRow
	Total    int
}

// funnelRow is a stage of the funnel.
type funnelRow struct {
	Stage string
	Count int
	Pct   string // of the verifications created
}

// funnelChart is the journey's funnel.
type funnelChart struct {
	SVG  svgChart
	Rows []funnelRow
}

// webhookChart is webhook delivery over the last days.
type webhookChart struct {
	SVG         svgChart
	Stats       verigate.WebhookStats
	SuccessPct  string
	Failed      int
	P50, P95    int64 // ms
	Days        int
	HasAttempts bool
}

// callsChart is the calls waiting now.
type callsChart struct {
	SVG   svgChart
	Rows  []verigate.CallQueueCount
	Total int
}

type overviewView struct {
	From, To time.Time
	Days     *dayChart
	Funnel   *funnelChart
	Webhooks *webhookChart
	Calls    *callsChart
}

// overview is the landing page: each chart its reader may see.
func (h *Handler) overview(q *req) error {
	now := h.Now().UTC()
	today := now.Truncate(24 * time.Hour)
	v := overviewView{From: today.AddDate(0, 0, -(chartDays - 1)), To: today.AddDate(0, 0, 1)}
	if q.p.Can("verifications.read", q.p.OrgID) {
		st, err := h.Verification.Stats(q.ctx, v.From, v.To)
		if err != nil {
			return err
		}
		v.Days, v.Funnel = dayChartOf(st.PerDay, v.From), funnelChartOf(st.Funnel)
	}
	if q.p.Can("webhooks.read", q.p.OrgID) {
		ws, err := h.Webhooks.Stats(q.ctx, now.Add(-webhookStatsDays*24*time.Hour), now.Add(time.Millisecond))
		if err != nil {
			return err
		}
		v.Webhooks = webhookChartOf(ws)
	}
	if q.p.Can("calls.read", q.p.OrgID) {
		counts, err := h.Calls.QueueSizes(q.ctx)
		if err != nil {
			return err
		}
		v.Calls = callsChartOf(counts)
	}
	return q.render(200, "overview", "Overview", "/dashboard/", v)
}

func pct(n, of int) string {
	if of == 0 {
		return "0%"
	}
	return fmt.Sprintf("%d%%", int(math.Round(float64(n)*100/float64(of))))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// dayChartOf stacks each day's counts by status, the days from from on.
func dayChartOf(counts []verigate.DayStatusCount, from time.Time) *dayChart {
	c := &dayChart{}
	used := map[verigate.SessionStatus]bool{}
	for _, x := range counts {
		used[x.Status] = true
	}
	for _, s := range verigate.SessionStatuses {
		if used[s] {
			c.Statuses = append(c.Statuses, s)
			c.Colours = append(c.Colours, statusColours[s])
		}
	}
	index := map[time.Time]int{}
	for i := range chartDays {
		d := from.AddDate(0, 0, i)
		index[d] = i
		c.Rows = append(c.Rows, dayRow{Day: d, Counts: make([]int, len(c.Statuses))})
	}
	for _, x := range counts {
		i, ok := index[x.Day]
		if !ok {
			continue
		}
		for k, s := range c.Statuses {
			if s == x.Status {
				c.Rows[i].Counts[k] += x.Count
			}
		}
		c.Rows[i].Total += x.Count
		c.Total += x.Count
	}
	max, busiest := 0, -1
	for i, r := range c.Rows {
		if r.Total > max {
			max, busiest = r.Total, i
		}
	}
	const left, top, plotH, barW, gap = 28.0, 8.0, 120.0, 22.0, 8.0
	c.SVG = svgChart{W: left + chartDays*(barW+gap), H: top + plotH + 22}
	c.SVG.Summary = fmt.Sprintf("Verifications created per day, %s to %s: %s in all",
		from.Format("2 Jan"), from.AddDate(0, 0, chartDays-1).Format("2 Jan"), plural(c.Total, "verification", "verifications"))
	if busiest >= 0 {
		c.SVG.Summary += fmt.Sprintf(", most on %s (%d)", c.Rows[busiest].Day.Format("2 Jan"), max)
	}
	c.SVG.Summary += "."
	scale := 0.0
	if max > 0 {
		scale = plotH / float64(max)
	}
	c.SVG.Labels = append(c.SVG.Labels, label{X: left - 4, Y: top + 4, Anchor: "end", Text: fmt.Sprint(max)},
		label{X: left - 4, Y: top + plotH, Anchor: "end", Text: "0"})
	for i, r := range c.Rows {
		x := left + float64(i)*(barW+gap) + gap/2
		y := top + plotH
		for k, n := range r.Counts {
			if n == 0 {
				continue
			}
			hgt := float64(n) * scale
			y -= hgt
			c.SVG.Rects = append(c.SVG.Rects, rect{X: x, Y: y, W: barW, H: hgt, Fill: c.Colours[k],
				Title: fmt.Sprintf("%s: %d %s", r.Day.Format("2 Jan"), n, c.Statuses[k])})
		}
		// Every other day, counted back from today, so the last bar is
		// labelled and no two labels touch; today's ends at its bar.
		switch {
		case i == chartDays-1:
			c.SVG.Labels = append(c.SVG.Labels, label{X: x + barW, Y: top + plotH + 16, Anchor: "end", Text: r.Day.Format("2 Jan")})
		case (chartDays-1-i)%2 == 0 && i > 0:
			c.SVG.Labels = append(c.SVG.Labels, label{X: x + barW/2, Y: top + plotH + 16, Anchor: "middle", Text: r.Day.Format("2 Jan")})
		}
	}
	return c
}

// funnelChartOf draws the funnel: a bar per stage, as a share of the
// verifications created.
func funnelChartOf(f verigate.FunnelCounts) *funnelChart {
	c := &funnelChart{}
	stages := []struct {
		name string
		n    int
	}{{"Created", f.Created}, {"Link opened", f.Opened}, {"Consented", f.Consented}, {"Source chosen", f.SourceChosen},
		{"Submitted", f.Submitted}, {"Completed", f.Completed}}
	const labelW, barMax, rowH = 110.0, 260.0, 28.0
	c.SVG = svgChart{W: labelW + barMax + 90, H: rowH * float64(len(stages))}
	var parts []string
	for i, s := range stages {
		row := funnelRow{Stage: s.name, Count: s.n, Pct: pct(s.n, f.Created)}
		c.Rows = append(c.Rows, row)
		parts = append(parts, fmt.Sprintf("%s %d (%s)", strings.ToLower(s.name), s.n, row.Pct))
		y := float64(i) * rowH
		w := 0.0
		if f.Created > 0 {
			w = barMax * float64(s.n) / float64(f.Created)
		}
		c.SVG.Labels = append(c.SVG.Labels, label{X: labelW - 8, Y: y + 18, Anchor: "end", Text: s.name},
			label{X: labelW + w + 6, Y: y + 18, Anchor: "start", Text: fmt.Sprintf("%d · %s", s.n, row.Pct)})
		if w > 0 {
			c.SVG.Rects = append(c.SVG.Rects, rect{X: labelW, Y: y + 5, W: w, H: rowH - 10, Fill: "#1d4ed8",
				Title: fmt.Sprintf("%s: %d (%s)", s.name, s.n, row.Pct)})
		}
	}
	c.SVG.Summary = fmt.Sprintf("Journey funnel of the verifications created in the last %d days: %s.", chartDays, strings.Join(parts, ", "))
	return c
}

// webhookChartOf draws the share of attempts that succeeded.
func webhookChartOf(s verigate.WebhookStats) *webhookChart {
	c := &webhookChart{Stats: s, Failed: s.Attempts - s.Succeeded, P50: s.P50.Milliseconds(), P95: s.P95.Milliseconds(),
		Days: webhookStatsDays, HasAttempts: s.Attempts > 0, SuccessPct: pct(s.Succeeded, s.Attempts)}
	const w = 360.0
	c.SVG = svgChart{W: w, H: 28}
	if s.Attempts > 0 {
		ok := w * float64(s.Succeeded) / float64(s.Attempts)
		c.SVG.Rects = append(c.SVG.Rects, rect{X: 0, Y: 4, W: ok, H: 20, Fill: "#059669", Title: fmt.Sprintf("%d succeeded", s.Succeeded)},
			rect{X: ok, Y: 4, W: w - ok, H: 20, Fill: "#dc2626", Title: fmt.Sprintf("%d failed", c.Failed)})
		c.SVG.Summary = fmt.Sprintf("Webhook delivery in the last %d days: %d of %s succeeded (%s); latency p50 %d ms, p95 %d ms.",
			webhookStatsDays, s.Succeeded, plural(s.Attempts, "attempt", "attempts"), c.SuccessPct, c.P50, c.P95)
	} else {
		c.SVG.Rects = append(c.SVG.Rects, rect{X: 0, Y: 4, W: w, H: 20, Fill: "#e5e7eb", Title: "no attempts"})
		c.SVG.Summary = fmt.Sprintf("No webhook delivery attempts in the last %d days.", webhookStatsDays)
	}
	return c
}

// callsChartOf draws the calls waiting at each institution, queued and
// assigned stacked.
func callsChartOf(counts []verigate.CallQueueCount) *callsChart {
	c := &callsChart{Rows: counts}
	max := 0
	for _, r := range counts {
		c.Total += r.Queued + r.Assigned
		if n := r.Queued + r.Assigned; n > max {
			max = n
		}
	}
	const labelW, barMax, rowH = 150.0, 220.0, 28.0
	c.SVG = svgChart{W: labelW + barMax + 80, H: rowH * float64(max1(len(counts)))}
	var parts []string
	for i, r := range counts {
		y := float64(i) * rowH
		name := r.InstitutionName
		if len([]rune(name)) > 20 {
			name = string([]rune(name)[:19]) + "…"
		}
		parts = append(parts, fmt.Sprintf("%s %d queued, %d assigned", r.InstitutionName, r.Queued, r.Assigned))
		c.SVG.Labels = append(c.SVG.Labels, label{X: labelW - 8, Y: y + 18, Anchor: "end", Text: name})
		x := labelW
		if max > 0 {
			for _, part := range []struct {
				n          int
				fill, what string
			}{{r.Queued, "#d97706", "queued"}, {r.Assigned, "#2563eb", "assigned"}} {
				if part.n == 0 {
					continue
				}
				w := barMax * float64(part.n) / float64(max)
				c.SVG.Rects = append(c.SVG.Rects, rect{X: x, Y: y + 5, W: w, H: rowH - 10, Fill: part.fill, Title: fmt.Sprintf("%s: %d %s", r.InstitutionName, part.n, part.what)})
				x += w
			}
		}
		c.SVG.Labels = append(c.SVG.Labels, label{X: x + 6, Y: y + 18, Anchor: "start", Text: fmt.Sprint(r.Queued + r.Assigned)})
	}
	if len(counts) == 0 {
		c.SVG.Summary = "No institutions with a call queue."
	} else {
		c.SVG.Summary = fmt.Sprintf("Calls waiting now: %d in all; %s.", c.Total, strings.Join(parts, "; "))
	}
	return c
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}
