package verification

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/verigate/verigate"
)

//go:embed catalog.json
var builtinCatalog []byte

// Catalog is the JSON form of the catalog (the built-in one, and what
// `verigate admin sources import` reads: {"sources": […]}, types optional).
type Catalog struct {
	Types   []verigate.VerificationType `json:"types"`
	Sources []*verigate.DataSource      `json:"sources"`
}

// SyncCatalog writes the built-in catalog into the store; run at start.
func (s *Service) SyncCatalog(ctx context.Context) error {
	var c Catalog
	if err := json.Unmarshal(builtinCatalog, &c); err != nil {
		return fmt.Errorf("built-in catalog: %w", err)
	}
	if err := s.store.UpsertVerificationTypes(ctx, c.Types); err != nil {
		return err
	}
	existing, err := s.store.ListSources(ctx)
	if err != nil {
		return err
	}
	byName := map[string]*verigate.DataSource{}
	for _, e := range existing {
		byName[e.SourceName] = e
	}
	// Write only what differs, so that a start changes nothing when the
	// catalog did not.
	now := s.now()
	var changed []*verigate.DataSource
	for _, src := range c.Sources {
		src.Builtin, src.CreatedAt, src.UpdatedAt = true, now, now
		e := byName[src.SourceName]
		if e != nil && !e.Builtin {
			continue // the deployment imported its own version: keep it
		}
		if e == nil || !sameEntry(e, src) {
			changed = append(changed, src)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	defer s.cache.invalidate()
	return s.store.UpsertSources(ctx, changed, nil)
}

func sameEntry(a, b *verigate.DataSource) bool {
	fa, _ := json.Marshal(a.LoginFlow)
	fb, _ := json.Marshal(b.LoginFlow)
	return a.ID == b.ID && a.Name == b.Name && a.Description == b.Description && a.LogoURL == b.LogoURL &&
		a.Category == b.Category && a.VerificationTypeID == b.VerificationTypeID && a.Kind == b.Kind &&
		a.ProviderID == b.ProviderID && a.TestOnly == b.TestOnly && bytes.Equal(fa, fb) &&
		slices.Equal(a.ProviderHashes, b.ProviderHashes)
}

// Types returns the verification types.
func (s *Service) Types(ctx context.Context) ([]verigate.VerificationType, error) {
	if err := verigate.PrincipalFrom(ctx).Authorize("sources.read", own(ctx), nil); err != nil {
		return nil, err
	}
	return s.store.ListVerificationTypes(ctx)
}

// ImportSources adds or updates catalog entries by sourceName.
func (s *Service) ImportSources(ctx context.Context, data []byte) ([]*verigate.DataSource, error) {
	if err := verigate.PrincipalFrom(ctx).Authorize("sources.manage", verigate.Object{}, nil); err != nil {
		return nil, err
	}
	var c Catalog
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, verigate.Errorf(verigate.EINVALID, "The catalog file is not valid: %v.", err)
	}
	if len(c.Sources) == 0 {
		return nil, verigate.Errorf(verigate.EINVALID, "The catalog file has no sources.")
	}
	types, err := s.store.ListVerificationTypes(ctx)
	if err != nil {
		return nil, err
	}
	known := map[int64]bool{}
	for _, t := range types {
		known[t.ID] = true
	}
	for _, t := range c.Types {
		if t.ID < 1 || verigate.ValidateText("types.name", t.Name, 100) != nil {
			return nil, verigate.FieldError("types", "each type needs an id ≥ 1 and a name")
		}
		known[t.ID] = true
	}
	now := s.now()
	seen := map[string]bool{}
	for i, src := range c.Sources {
		field := fmt.Sprintf("sources[%d]", i)
		switch {
		case verigate.ValidateText(field+".sourceName", src.SourceName, 100) != nil:
			return nil, verigate.FieldError(field+".sourceName", "must be 1-100 printable characters")
		case seen[strings.ToLower(src.SourceName)]:
			return nil, verigate.FieldError(field+".sourceName", "appears twice")
		case verigate.ValidateText(field+".name", src.Name, 100) != nil:
			return nil, verigate.FieldError(field+".name", "must be 1-100 printable characters")
		case src.Kind != verigate.SourceReclaim && src.Kind != verigate.SourceConnector:
			return nil, verigate.FieldError(field+".kind", "must be reclaim or connector")
		case !known[src.VerificationTypeID]:
			return nil, verigate.FieldError(field+".verificationTypeId", "is not a known verification type")
		case src.Kind == verigate.SourceReclaim && src.ProviderID == "":
			return nil, verigate.FieldError(field+".providerId", "a reclaim source needs its Reclaim provider id")
		case src.ID != 0:
			return nil, verigate.FieldError(field+".id", "ids are given by the server; leave id out (a built-in source is replaced by its sourceName)")
		case len(src.ProviderHashes) > 20:
			return nil, verigate.FieldError(field+".providerHashes", "at most 20")
		case slices.ContainsFunc(src.ProviderHashes, func(h string) bool { return !providerHashRE.MatchString(h) }):
			return nil, verigate.FieldError(field+".providerHashes", "each must be a Reclaim provider hash: 0x and 64 hex digits")
		case verigate.TooLong(src.Description, 1000) || verigate.TooLong(src.LogoURL, 500) || verigate.TooLong(src.Category, 100):
			return nil, verigate.FieldError(field, "description, logoUrl or category too long")
		}
		seen[strings.ToLower(src.SourceName)] = true
		if src.LoginFlow == nil {
			src.LoginFlow = []verigate.LoginStep{}
		}
		src.Builtin, src.CreatedAt, src.UpdatedAt = false, now, now
	}
	defer s.cache.invalidate()
	if len(c.Types) > 0 {
		if err := s.store.UpsertVerificationTypes(ctx, c.Types); err != nil {
			return nil, err
		}
	}
	ev := s.audit(ctx, "sources.import", "catalog", "", "")
	ev.Details = map[string]any{"count": len(c.Sources)}
	if err := s.store.UpsertSources(ctx, c.Sources, &ev); err != nil {
		return nil, err
	}
	return c.Sources, nil
}

// available returns the catalog entries an organization may use in mode:
// not test-only unless mode is test, and not disabled by the organization
// or its nearest ancestor that says.
func (s *Service) available(ctx context.Context, orgID string, mode verigate.Mode) ([]*verigate.DataSource, error) {
	chain, err := s.store.OrgChain(ctx, orgID)
	if err != nil {
		return nil, err
	}
	return s.availableIn(ctx, chain, mode)
}

// availableIn is available for an organization chain, nearest first.
func (s *Service) availableIn(ctx context.Context, chain []string, mode verigate.Mode) ([]*verigate.DataSource, error) {
	all, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	settings, err := s.sourceSettings(ctx, chain)
	if err != nil {
		return nil, err
	}
	var out []*verigate.DataSource
	for _, src := range all {
		if src.TestOnly && mode != verigate.ModeTest {
			continue
		}
		enabled := true
		for _, org := range chain { // nearest first
			if on, ok := settings[org][src.ID]; ok {
				enabled = on
				break
			}
		}
		if enabled {
			out = append(out, src)
		}
	}
	return out, nil
}

// sessionSources returns what a session's applicant may choose from: the
// available sources, narrowed to the session's allowed ones if it names any.
func (s *Service) sessionSources(ctx context.Context, sess *verigate.Session) ([]*verigate.DataSource, error) {
	avail, err := s.available(ctx, sess.OrgID, sess.Mode)
	if err != nil || len(sess.AllowedSources) == 0 {
		return avail, err
	}
	var out []*verigate.DataSource
	for _, src := range avail {
		if slices.Contains(sess.AllowedSources, src.ID) {
			out = append(out, src)
		}
	}
	return out, nil
}

// rank scores how well a source matches a search; 0 is no match.
func rank(src *verigate.DataSource, q string) int {
	name, source := strings.ToLower(src.Name), strings.ToLower(src.SourceName)
	switch {
	case name == q || source == q:
		return 100
	case strings.HasPrefix(name, q) || strings.HasPrefix(source, q):
		return 80
	case strings.Contains(name, q) || strings.Contains(source, q):
		return 60
	case strings.Contains(strings.ToLower(src.Category), q):
		return 40
	case strings.Contains(strings.ToLower(src.Description), q):
		return 20
	}
	return 0
}

// search returns the sources matching text, best first (then by name).
func search(sources []*verigate.DataSource, text string) []*verigate.DataSource {
	q := strings.ToLower(strings.TrimSpace(text))
	type hit struct {
		src   *verigate.DataSource
		score int
	}
	var hits []hit
	for _, src := range sources {
		if sc := rank(src, q); sc > 0 {
			hits = append(hits, hit{src, sc})
		}
	}
	sort.SliceStable(hits, func(i, j int) bool {
		if hits[i].score != hits[j].score {
			return hits[i].score > hits[j].score
		}
		return strings.ToLower(hits[i].src.Name) < strings.ToLower(hits[j].src.Name)
	})
	out := make([]*verigate.DataSource, len(hits))
	for i, h := range hits {
		out[i] = h.src
	}
	return out
}

// SetSourceEnabled enables or disables a source for an organization and
// everything under it.
func (s *Service) SetSourceEnabled(ctx context.Context, orgKey, sourceName string, enabled bool) error {
	org, err := s.organization(ctx, "sources.manage", orgKey)
	if err != nil {
		return err
	}
	src, err := s.sourceByName(ctx, sourceName)
	if err != nil {
		return err
	}
	ev := s.audit(ctx, "sources.set_enabled", "data_source", fmt.Sprint(src.ID), org.ID)
	ev.Details = map[string]any{"enabled": enabled, "sourceName": src.SourceName}
	defer s.cache.invalidate()
	return s.store.SetSourceEnabled(ctx, org.ID, src.ID, enabled, ev)
}

// SetReviewPolicy sets when an organization's finished sessions go to review.
func (s *Service) SetReviewPolicy(ctx context.Context, orgKey, policy string) error {
	if policy != verigate.ReviewAlways && policy != verigate.ReviewOnFailure && policy != verigate.ReviewNever {
		return verigate.FieldError("policy", "must be always, on_failure or never")
	}
	org, err := s.organization(ctx, "organizations.update", orgKey)
	if err != nil {
		return err
	}
	ev := s.audit(ctx, "organization.review_policy", "organization", org.ID, org.ID)
	ev.Details = map[string]any{"policy": policy}
	return s.store.SetReviewPolicy(ctx, org.ID, policy, ev)
}

// organization returns the organization key names when the principal in
// ctx may use perm on it; a foreign one answers as a missing one.
func (s *Service) organization(ctx context.Context, perm verigate.Permission, key string) (*verigate.Organization, error) {
	org, err := s.store.GetOrganizationByKey(ctx, key)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return nil, verigate.Authorize(ctx, perm, verigate.Missing, errOrganizationNotFound)
	} else if err != nil {
		return nil, err
	}
	if err := verigate.Authorize(ctx, perm, verigate.Object{Org: org.ID}, errOrganizationNotFound); err != nil {
		return nil, err
	}
	return org, nil
}

// ErrSourceNotFound answers an unknown source name.
var ErrSourceNotFound = verigate.Errorf(verigate.ENOTFOUND, "Verification source not found")

func (s *Service) sourceByName(ctx context.Context, name string) (*verigate.DataSource, error) {
	all, err := s.store.ListSources(ctx)
	if err != nil {
		return nil, err
	}
	for _, src := range all {
		if strings.EqualFold(src.SourceName, name) || strings.EqualFold(src.Name, name) {
			return src, nil
		}
	}
	return nil, ErrSourceNotFound
}

// Sources lists the whole catalog, as its administrators see it.
func (s *Service) Sources(ctx context.Context) ([]*verigate.DataSource, error) {
	if err := verigate.PrincipalFrom(ctx).Authorize("sources.read", verigate.Object{}, nil); err != nil {
		return nil, err
	}
	return s.store.ListSources(ctx)
}

// providerHashRE is the shape of a Reclaim provider hash (a keccak256).
var providerHashRE = regexp.MustCompile(`^0x[0-9a-fA-F]{64}$`)
