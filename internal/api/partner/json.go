package partner

import (
	"encoding/json"

	"github.com/verigate/verigate"
)

type sourceJSON struct {
	ID                 int64  `json:"id"`
	Name               string `json:"name"`
	Description        string `json:"description"`
	SourceName         string `json:"sourceName"`
	LogoURL            string `json:"logoUrl"`
	Category           string `json:"category"`
	VerificationTypeID int64  `json:"verificationTypeId"`
	Kind               string `json:"kind"`
	ProviderID         string `json:"providerId"`
}

func toSources(list []*verigate.DataSource) []sourceJSON {
	out := []sourceJSON{}
	for _, s := range list {
		out = append(out, sourceJSON{ID: s.ID, Name: s.Name, Description: s.Description, SourceName: s.SourceName,
			LogoURL: s.LogoURL, Category: s.Category, VerificationTypeID: s.VerificationTypeID, Kind: s.Kind, ProviderID: s.ProviderID})
	}
	return out
}

type stepJSON struct {
	ID            int64           `json:"id"`
	Status        string          `json:"status"`
	Type          string          `json:"type"`
	SessionID     int64           `json:"sessionId"`
	DataSourceID  int64           `json:"dataSourceId"`
	Metadata      json.RawMessage `json:"metadata"`
	Results       json.RawMessage `json:"results"`
	FailureReason *string         `json:"failureReason"`
	CreatedAt     string          `json:"createdAt"`
	UpdatedAt     string          `json:"updatedAt"`
	// Connection is a connector step's login, when it has one.
	Connection *connectionJSON `json:"connection,omitempty"`
}

func toStep(s *verigate.Step) stepJSON {
	return stepJSON{ID: s.ID, Status: string(s.Status), Type: s.Type, SessionID: s.SessionID, DataSourceID: s.DataSourceID,
		Metadata: raw(s.Metadata), Results: raw(s.Results), FailureReason: strPtr(s.FailureReason),
		CreatedAt: formatTime(s.CreatedAt), UpdatedAt: formatTime(s.UpdatedAt)}
}

func toSteps(list []*verigate.Step) []stepJSON {
	out := []stepJSON{}
	for _, s := range list {
		out = append(out, toStep(s))
	}
	return out
}

func raw(r json.RawMessage) json.RawMessage {
	if len(r) == 0 {
		return json.RawMessage("{}")
	}
	return r
}

type linkJSON struct {
	ManualVerificationLink   string `json:"manualVerificationLink"`
	DeeplinkVerificationLink string `json:"deeplinkVerificationLink"`
	Token                    string `json:"token"`
}

type sessionJSON struct {
	ID                 int64           `json:"id"`
	Status             string          `json:"status"`
	ExpiryDate         string          `json:"expiryDate"`
	ApplicantID        *string         `json:"applicantId"`
	ApplicantFirstName *string         `json:"applicantFirstName"`
	ApplicantLastName  *string         `json:"applicantLastName"`
	ApplicantEmail     *string         `json:"applicantEmail"`
	Metadata           json.RawMessage `json:"metadata"`
	ApplicantData      json.RawMessage `json:"applicantData"`
	Instructions       *string         `json:"instructions"`
	AllowedSources     []int64         `json:"allowedSources"`
	SelectedPlatform   *int64          `json:"selectedPlatform"`
	VerificationTypeID *int64          `json:"verificationTypeId"`
	RedirectURL        *string         `json:"redirectUrl"`
	Mode               string          `json:"mode"`
	TeamID             int64           `json:"teamId"`
	ReviewerID         *string         `json:"reviewerId"`
	ReviewReason       *string         `json:"reviewReason"`
	CreatedAt          string          `json:"createdAt"`
	UpdatedAt          string          `json:"updatedAt"`
	CompletedAt        *string         `json:"completedAt"`
	VerificationLink   *linkJSON       `json:"verificationLink,omitempty"`
	Steps              []stepJSON      `json:"steps,omitempty"`
}

func toSession(s *verigate.Session) sessionJSON {
	return sessionJSON{ID: s.ID, Status: string(s.Status), ExpiryDate: formatTime(s.ExpiryDate), ApplicantID: strPtr(s.ApplicantID),
		ApplicantFirstName: strPtr(s.ApplicantFirstName), ApplicantLastName: strPtr(s.ApplicantLastName),
		ApplicantEmail: strPtr(s.ApplicantEmail), Metadata: raw(s.Metadata), ApplicantData: raw(s.ApplicantData),
		Instructions: strPtr(s.Instructions), AllowedSources: s.AllowedSources, SelectedPlatform: s.SelectedPlatform,
		VerificationTypeID: s.VerificationTypeID, RedirectURL: strPtr(s.RedirectURL), Mode: string(s.Mode), TeamID: s.TeamID,
		ReviewerID: strPtr(s.ReviewerID), ReviewReason: strPtr(s.ReviewReason),
		CreatedAt: formatTime(s.CreatedAt), UpdatedAt: formatTime(s.UpdatedAt), CompletedAt: formatTimePtr(s.CompletedAt)}
}

// reviewerSessionJSON is a reviewer-list item: the seed's fields first.
type reviewerSessionJSON struct {
	ID                 int64           `json:"id"`
	Status             string          `json:"status"`
	VerificationTypeID *int64          `json:"verificationTypeId"`
	UserID             *string         `json:"userId"`
	TeamID             int64           `json:"teamId"`
	ReviewerID         *string         `json:"reviewerId"`
	CreatedAt          string          `json:"createdAt"`
	UpdatedAt          string          `json:"updatedAt"`
	ExpiryDate         string          `json:"expiryDate"`
	ApplicantFirstName *string         `json:"applicantFirstName"`
	ApplicantLastName  *string         `json:"applicantLastName"`
	ApplicantEmail     *string         `json:"applicantEmail"`
	Metadata           json.RawMessage `json:"metadata"`
	ReviewReason       *string         `json:"reviewReason"`
	Mode               string          `json:"mode"`
}

func toReviewerSession(s *verigate.Session) reviewerSessionJSON {
	return reviewerSessionJSON{ID: s.ID, Status: string(s.Status), VerificationTypeID: s.VerificationTypeID, UserID: strPtr(s.ApplicantID),
		TeamID: s.TeamID, ReviewerID: strPtr(s.ReviewerID), CreatedAt: formatTime(s.CreatedAt), UpdatedAt: formatTime(s.UpdatedAt),
		ExpiryDate: formatTime(s.ExpiryDate), ApplicantFirstName: strPtr(s.ApplicantFirstName),
		ApplicantLastName: strPtr(s.ApplicantLastName), ApplicantEmail: strPtr(s.ApplicantEmail), Metadata: raw(s.Metadata),
		ReviewReason: strPtr(s.ReviewReason), Mode: string(s.Mode)}
}

type statusBody struct {
	Status string `json:"status"`
}
