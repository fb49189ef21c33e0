package verigate

import "time"

// StatsFilter selects the verifications an aggregate counts: those of
// OrgIDs in Mode created in [From, To).
type StatsFilter struct {
	OrgIDs   []string
	Mode     Mode
	From, To time.Time
}

// DayStatusCount counts the verifications created on Day (a UTC
// midnight) that are now in Status.
type DayStatusCount struct {
	Day    time.Time
	Status SessionStatus
	Count  int
}

// FunnelCounts counts verifications by how far their applicant went; a
// later stage implies the earlier ones (a session counted as submitted is
// counted as opened too).
type FunnelCounts struct {
	Created      int
	Opened       int // its link was opened
	Consented    int // its applicant agreed to share
	SourceChosen int // a data source was chosen (a step exists)
	Submitted    int // a proof or a login was submitted (a step went past INITIATED, not by expiry)
	Completed    int // the verification is COMPLETED
}

// WebhookStats sums up webhook delivery attempts: how many, how many
// succeeded (a 2xx answer), and the latency's 50th and 95th percentiles
// (nearest rank; zero without attempts).
type WebhookStats struct {
	Attempts  int
	Succeeded int
	P50, P95  time.Duration
}

// CallQueueCount is how many of an institution's calls wait: queued (not
// yet assigned) and assigned (not yet decided).
type CallQueueCount struct {
	InstitutionID   string
	InstitutionName string
	Queued          int
	Assigned        int
}
