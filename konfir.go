package verigate

import "time"

// Konfir (seed 004) names a verification's state with three statuses and,
// for a cancelled one, a reason; Verigate keeps its finer session status
// (the "core status") and shows it alongside.

// KonfirStatus is a verification's status as Konfir names it.
type KonfirStatus string

// Konfir statuses.
const (
	KonfirWaiting   KonfirStatus = "waiting_for_candidate"
	KonfirCompleted KonfirStatus = "completed"
	KonfirCancelled KonfirStatus = "cancelled"
)

// KonfirStatuses lists every Konfir status.
var KonfirStatuses = []KonfirStatus{KonfirWaiting, KonfirCompleted, KonfirCancelled}

// CancelReason says why a verification is cancelled, in Konfir's words.
// Only the first three are given by whoever cancels; the others name the
// session's own ending (EXPIRED, FAILED).
type CancelReason string

// Cancellation reasons.
const (
	CancelVerifier  CancelReason = "verifier_cancelled"
	CancelDuplicate CancelReason = "duplicate"
	CancelRejected  CancelReason = "rejected"
	CancelTimedOut  CancelReason = "timed_out"
	CancelFailed    CancelReason = "failed"
)

// CancelReasons are the reasons a caller may give when cancelling.
var CancelReasons = []CancelReason{CancelVerifier, CancelDuplicate, CancelRejected}

// Konfir maps a session status (and, for CANCELLED, the stored reason) to
// Konfir's status and cancellation reason ("" unless cancelled):
//
//	PENDING, PROCESSING  → waiting_for_candidate
//	COMPLETED, REVIEWING → completed (the core status tells REVIEWING apart)
//	EXPIRED              → cancelled, timed_out
//	FAILED               → cancelled, failed
//	REJECTED             → cancelled, rejected
//	CANCELLED            → cancelled, its reason (verifier_cancelled when none)
func (s SessionStatus) Konfir(reason CancelReason) (KonfirStatus, CancelReason) {
	switch s {
	case SessionPending, SessionProcessing:
		return KonfirWaiting, ""
	case SessionCompleted, SessionReviewing:
		return KonfirCompleted, ""
	case SessionExpired:
		return KonfirCancelled, CancelTimedOut
	case SessionFailed:
		return KonfirCancelled, CancelFailed
	case SessionRejected:
		return KonfirCancelled, CancelRejected
	case SessionCancelled:
		if reason == "" {
			reason = CancelVerifier
		}
		return KonfirCancelled, reason
	}
	return "", ""
}

// CoreStatuses are the session statuses a Konfir status stands for.
func (k KonfirStatus) CoreStatuses() []SessionStatus {
	var out []SessionStatus
	for _, s := range SessionStatuses {
		if got, _ := s.Konfir(""); got == k {
			out = append(out, s)
		}
	}
	return out
}

// VerificationFilter selects one page of verifications, most recent
// first: those of OrgIDs in Mode, with one of Statuses (any when empty),
// created in [CreatedFrom, CreatedTo] (either bound may be zero), with
// ExternalReferenceID when set, and an id below Before when set (the
// cursor).
type VerificationFilter struct {
	OrgIDs              []string
	Mode                Mode
	Statuses            []SessionStatus
	CreatedFrom         time.Time
	CreatedTo           time.Time
	ExternalReferenceID string
	// Search matches the external reference exactly, or a part of the
	// applicant's name ("first last") or email, ignoring case.
	Search string
	Before int64
	Limit  int
}

// ActivityStatus is a verification's data source ("activity") as Konfir
// shows it.
type ActivityStatus string

// Activity statuses.
const (
	ActivityVerified     ActivityStatus = "Verified"      // backed by a verified cryptographic proof
	ActivityConnected    ActivityStatus = "Connected"     // data a connector obtained
	ActivityNotConnected ActivityStatus = "Not Connected" // not started, under way, failed or expired
)

// Activity maps a step's status to its activity status: VERIFIED →
// Verified, COMPLETED → Connected, anything else → Not Connected (the
// step's own status is shown alongside).
func (s StepStatus) Activity() ActivityStatus {
	switch s {
	case StepVerified:
		return ActivityVerified
	case StepCompleted:
		return ActivityConnected
	}
	return ActivityNotConnected
}
