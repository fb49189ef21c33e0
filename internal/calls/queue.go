package calls

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/verigate/verigate"
)

// Queue paging bounds.
const (
	DefaultLimit = 25
	MaxLimit     = 100
)

// Queue lists the calls awaiting verification (queued or assigned) that
// match f, oldest first, and how many match in all.
func (s *Service) Queue(ctx context.Context, inst *verigate.Organization, f verigate.CallFilter) ([]*verigate.PhoneCall, int, error) {
	if err := verigate.Authorize(ctx, "calls.read", verigate.Object{Org: inst.ID}, ErrCallNotFound); err != nil {
		return nil, 0, err
	}
	if f.Limit < 1 || f.Limit > MaxLimit {
		return nil, 0, verigate.FieldError("limit", fmt.Sprintf("must be between 1 and %d", MaxLimit))
	}
	if f.Offset < 0 {
		return nil, 0, verigate.FieldError("offset", "must not be negative")
	}
	if verigate.TooLong(f.Search, 100) {
		return nil, 0, verigate.FieldError("search", "must be at most 100 characters")
	}
	if f.From != nil && f.To != nil && f.To.Before(*f.From) {
		return nil, 0, verigate.FieldError("to", "must not be before from")
	}
	f.InstitutionID = inst.ID
	f.Statuses = []verigate.CallStatus{verigate.CallQueued, verigate.CallAssigned}
	return s.store.ListCalls(ctx, f)
}

// Details returns one call of the institution.
func (s *Service) Details(ctx context.Context, inst *verigate.Organization, voiceID string) (*verigate.PhoneCall, error) {
	if err := verigate.Authorize(ctx, "calls.read", verigate.Object{Org: inst.ID}, ErrCallNotFound); err != nil {
		return nil, err
	}
	return s.get(ctx, inst, voiceID)
}

func (s *Service) get(ctx context.Context, inst *verigate.Organization, voiceID string) (*verigate.PhoneCall, error) {
	if voiceID == "" || len(voiceID) > 64 {
		return nil, ErrCallNotFound
	}
	c, err := s.store.GetCall(ctx, inst.ID, voiceID)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return nil, ErrCallNotFound
	}
	return c, err
}

// AssignInput names a call, by voice id or by the caller's phone number
// (the oldest queued call from it), and the member to assign it to.
type AssignInput struct {
	VoiceID     string
	PhoneNumber string
	PersonID    string
	MemberName  string // optional; a new member defaults to the caller's name
}

// Assign assigns a call to a member, creating the member record the first
// time the institution sees the person id.
func (s *Service) Assign(ctx context.Context, inst *verigate.Organization, in AssignInput) (*verigate.PhoneCall, error) {
	if (in.VoiceID == "") == (in.PhoneNumber == "") {
		return nil, verigate.FieldError("voiceId", "give either voiceId or phoneNumber")
	}
	if err := verigate.ValidateText("personId", in.PersonID, 64); err != nil {
		return nil, err
	}
	if in.MemberName != "" {
		if err := verigate.ValidateText("memberName", strings.TrimSpace(in.MemberName), 200); err != nil {
			return nil, err
		}
	}
	if err := verigate.Authorize(ctx, "calls.assign", verigate.Object{Org: inst.ID}, ErrCallNotFound); err != nil {
		return nil, err
	}
	var c *verigate.PhoneCall
	var err error
	if in.VoiceID != "" {
		c, err = s.get(ctx, inst, in.VoiceID)
	} else {
		var phone string
		if phone, err = NormalizePhone("phoneNumber", in.PhoneNumber); err != nil {
			return nil, err
		}
		c, err = s.store.FindCallByPhone(ctx, inst.ID, phone)
		if verigate.ErrorCode(err) == verigate.ENOTFOUND {
			err = ErrCallNotFound
		}
	}
	if err != nil {
		return nil, err
	}
	to, err := next("assign", c.Status)
	if err != nil {
		return nil, err
	}
	now := s.now()
	m, err := s.store.GetMember(ctx, inst.ID, in.PersonID)
	switch verigate.ErrorCode(err) {
	case verigate.ENOTFOUND:
		m = &verigate.Member{InstitutionID: inst.ID, PersonID: in.PersonID, Name: c.CallerName, CreatedAt: now}
	case "":
	default:
		return nil, err
	}
	if in.MemberName != "" {
		m.Name = strings.TrimSpace(in.MemberName)
	}
	m.UpdatedAt = now
	from, fromPerson := c.Status, c.PersonID
	c.Status, c.PersonID, c.UpdatedAt, c.Member = to, in.PersonID, now, m
	by := operator(ctx)
	e := verigate.CallEvent{Type: "call.assigned", At: now, Detail: "to " + in.PersonID + " by " + by}
	ev := s.audit(ctx, "AssignCall", "phone_call", c.VoiceID, inst.ID)
	ev.Details = map[string]any{"personId": in.PersonID}
	if err := s.store.UpdateCall(ctx, verigate.CallChange{Call: c, FromStatus: from, FromPersonID: fromPerson, Member: m,
		Events: []verigate.CallEvent{e}, Audit: []verigate.AuditEvent{ev},
		Outbox: []verigate.OutboxEvent{verigate.NewCallStatus(inst, c, "", now)}}); err != nil {
		return nil, err
	}
	c.Events = append(c.Events, e)
	return c, nil
}

// Enroll records that the operator verified the assigned member by
// validationType: the member's voice is enrolled, a verification is
// recorded, and the activity records AcceptCallerVoice and
// FullAuthentication are written.
func (s *Service) Enroll(ctx context.Context, inst *verigate.Organization, voiceID, validationType string) (*verigate.PhoneCall, error) {
	if !slices.Contains(verigate.ValidationTypes, validationType) {
		return nil, verigate.FieldError("validationType", "must be one of "+strings.Join(verigate.ValidationTypes, ", "))
	}
	c, to, err := s.decide(ctx, inst, voiceID, "calls.enroll", "enroll")
	if err != nil {
		return nil, err
	}
	now := s.now()
	m := *c.Member
	m.VoiceEnrolled, m.EnrolledVoiceID, m.EnrolledAt = true, c.VoiceID, &now
	m.VerificationCount++
	m.LastVerifiedAt, m.UpdatedAt = &now, now
	by := operator(ctx)
	from := c.Status
	c.Status, c.Verified, c.ValidationType, c.DecidedBy, c.DecidedAt, c.UpdatedAt, c.Member = to, true, validationType, by, &now, now, &m
	e := verigate.CallEvent{Type: "voice.enrolled", At: now, Detail: "verified by " + validationType + " by " + by}
	accept := s.audit(ctx, "AcceptCallerVoice", "phone_call", c.VoiceID, inst.ID)
	accept.Details = map[string]any{"personId": m.PersonID}
	full := s.audit(ctx, "FullAuthentication", "member", m.PersonID, inst.ID)
	full.Details = map[string]any{"voiceId": c.VoiceID, "validationType": validationType}
	if err := s.store.UpdateCall(ctx, verigate.CallChange{Call: c, FromStatus: from, FromPersonID: c.PersonID, Member: &m,
		MemberEnrollment: true, Verification: &verigate.MemberVerification{InstitutionID: inst.ID, PersonID: m.PersonID, VoiceID: c.VoiceID,
			ValidationType: validationType, RequestedBy: by, CreatedAt: now},
		Events: []verigate.CallEvent{e}, Audit: []verigate.AuditEvent{accept, full},
		Outbox: []verigate.OutboxEvent{verigate.NewCallStatus(inst, c, "", now)}}); err != nil {
		return nil, err
	}
	c.Events = append(c.Events, e)
	return c, nil
}

// RejectVoice rejects the caller's voice: the call ends rejected, and the
// member's voice is un-enrolled (whatever call enrolled it), so the next
// call must be verified afresh. The activity record is RejectCallerVoice.
func (s *Service) RejectVoice(ctx context.Context, inst *verigate.Organization, voiceID, reason string) (*verigate.PhoneCall, error) {
	if reason != "" {
		if err := verigate.ValidateText("reason", reason, 500); err != nil {
			return nil, err
		}
	}
	c, to, err := s.decide(ctx, inst, voiceID, "calls.reject", "reject")
	if err != nil {
		return nil, err
	}
	now := s.now()
	m := *c.Member
	m.VoiceEnrolled, m.EnrolledVoiceID, m.EnrolledAt, m.UpdatedAt = false, "", nil, now
	by := operator(ctx)
	from := c.Status
	c.Status, c.Verified, c.DecidedBy, c.DecidedAt, c.UpdatedAt, c.Member = to, false, by, &now, now, &m
	detail := "by " + by
	if reason != "" {
		detail += ": " + reason
	}
	e := verigate.CallEvent{Type: "voice.rejected", At: now, Detail: detail}
	ev := s.audit(ctx, "RejectCallerVoice", "phone_call", c.VoiceID, inst.ID)
	ev.Details = map[string]any{"personId": m.PersonID, "reason": reason}
	if err := s.store.UpdateCall(ctx, verigate.CallChange{Call: c, FromStatus: from, FromPersonID: c.PersonID, Member: &m,
		MemberEnrollment: true, Events: []verigate.CallEvent{e}, Audit: []verigate.AuditEvent{ev},
		Outbox: []verigate.OutboxEvent{verigate.NewCallStatus(inst, c, reason, now)}}); err != nil {
		return nil, err
	}
	c.Events = append(c.Events, e)
	return c, nil
}

// decide loads an assigned (or enrolled) call for an operator's decision
// and returns the status the action leads to.
func (s *Service) decide(ctx context.Context, inst *verigate.Organization, voiceID string, perm verigate.Permission, action string) (*verigate.PhoneCall, verigate.CallStatus, error) {
	if err := verigate.Authorize(ctx, perm, verigate.Object{Org: inst.ID}, ErrCallNotFound); err != nil {
		return nil, "", err
	}
	c, err := s.get(ctx, inst, voiceID)
	if err != nil {
		return nil, "", err
	}
	to, err := next(action, c.Status)
	if err != nil {
		return nil, "", err
	}
	if c.Member == nil {
		return nil, "", fmt.Errorf("call %s is %s but has no member", c.VoiceID, c.Status)
	}
	return c, to, nil
}

// QueueSizes counts the calls waiting (queued or assigned) now at each
// institution in the caller's reach, institutions with none included.
func (s *Service) QueueSizes(ctx context.Context) ([]verigate.CallQueueCount, error) {
	p := verigate.PrincipalFrom(ctx)
	if err := p.Authorize("calls.read", verigate.Object{}, nil); err != nil {
		return nil, err
	}
	orgs := p.Orgs
	if p.Kind == verigate.PrincipalSystem {
		orgs = []string{p.OrgID}
	}
	list, err := s.store.CallQueueCounts(ctx, orgs)
	if list == nil && err == nil {
		list = []verigate.CallQueueCount{}
	}
	return list, err
}
