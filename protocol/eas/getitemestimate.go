package eas

import "github.com/gatehouse-lab/gatehouse/protocol/wbxml"

// GetItemEstimateRequest is a GetItemEstimate command request in the
// protocol 14.0+ form. The 12.1 elements (getitemestimate:Class,
// airsync:FilterType directly in Collection) are kept in Unknown.
type GetItemEstimateRequest struct {
	XMLName     struct{}                    `wbxml:"GetItemEstimate:GetItemEstimate"`
	Collections []GetItemEstimateCollection `wbxml:"Collections>Collection"`
	Unknown     []*wbxml.Node               `wbxml:",any"`
}

// GetItemEstimateCollection names a collection to estimate.
type GetItemEstimateCollection struct {
	SyncKey          string        `wbxml:"AirSync:SyncKey,omitempty"`
	CollectionId     string        `wbxml:"CollectionId"`
	ConversationMode *bool         `wbxml:"AirSync:ConversationMode,omitempty"`
	Options          []SyncOptions `wbxml:"AirSync:Options"`
	Unknown          []*wbxml.Node `wbxml:",any"`
}

// GetItemEstimateResponse is a GetItemEstimate command response.
type GetItemEstimateResponse struct {
	XMLName  struct{}           `wbxml:"GetItemEstimate:GetItemEstimate"`
	Status   int                `wbxml:"Status,omitempty"`
	Response []EstimateResponse `wbxml:"Response"`
	Unknown  []*wbxml.Node      `wbxml:",any"`
}

// EstimateResponse is one Response element: a status and the estimate.
type EstimateResponse struct {
	Status     int           `wbxml:"Status"`
	Collection *ItemEstimate `wbxml:"Collection,omitempty"`
	Unknown    []*wbxml.Node `wbxml:",any"`
}

// ItemEstimate is the number of items a Sync of CollectionId would return.
type ItemEstimate struct {
	Class        string        `wbxml:"Class,omitempty"`
	CollectionId string        `wbxml:"CollectionId"`
	Estimate     *int          `wbxml:"Estimate,omitempty"`
	Unknown      []*wbxml.Node `wbxml:",any"`
}
