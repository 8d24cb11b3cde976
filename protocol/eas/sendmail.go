package eas

import "github.com/gatehouse-lab/gatehouse/protocol/wbxml"

// Protocol 12.1 SendMail, SmartForward and SmartReply carry the raw MIME
// message as the request body (Content-Type message/rfc822) and need no
// struct. From 14.0 they are WBXML in the ComposeMail namespace, below.

// SendMail is a 14.0+ SendMail command request. Mime is the whole RFC 5322
// message, sent as opaque data.
type SendMail struct {
	XMLName         struct{}      `wbxml:"ComposeMail:SendMail"`
	ClientId        string        `wbxml:"ClientId"`
	AccountId       string        `wbxml:"AccountId,omitempty"`
	SaveInSentItems bool          `wbxml:"SaveInSentItems,empty"`
	Mime            []byte        `wbxml:"Mime"`
	Unknown         []*wbxml.Node `wbxml:",any"`
}

// SmartForward is a 14.0+ SmartForward command request: the server appends
// the Source item (and its attachments) unless ReplaceMime is present.
type SmartForward struct {
	XMLName         struct{}      `wbxml:"ComposeMail:SmartForward"`
	ClientId        string        `wbxml:"ClientId"`
	Source          *Source       `wbxml:"Source,omitempty"`
	AccountId       string        `wbxml:"AccountId,omitempty"`
	SaveInSentItems bool          `wbxml:"SaveInSentItems,empty"`
	ReplaceMime     bool          `wbxml:"ReplaceMime,empty"`
	Mime            []byte        `wbxml:"Mime"`
	Unknown         []*wbxml.Node `wbxml:",any"`
}

// SmartReply is a 14.0+ SmartReply command request; its fields are those of
// SmartForward.
type SmartReply struct {
	XMLName         struct{}      `wbxml:"ComposeMail:SmartReply"`
	ClientId        string        `wbxml:"ClientId"`
	Source          *Source       `wbxml:"Source,omitempty"`
	AccountId       string        `wbxml:"AccountId,omitempty"`
	SaveInSentItems bool          `wbxml:"SaveInSentItems,empty"`
	ReplaceMime     bool          `wbxml:"ReplaceMime,empty"`
	Mime            []byte        `wbxml:"Mime"`
	Unknown         []*wbxml.Node `wbxml:",any"`
}

// Source identifies the item being forwarded or replied to: FolderId and
// ItemId, or LongId (a search result), plus InstanceId for one occurrence
// of a recurring meeting.
type Source struct {
	FolderId   string        `wbxml:"FolderId,omitempty"`
	ItemId     string        `wbxml:"ItemId,omitempty"`
	LongId     string        `wbxml:"LongId,omitempty"`
	InstanceId string        `wbxml:"InstanceId,omitempty"`
	Unknown    []*wbxml.Node `wbxml:",any"`
}

// SendMailResponse is the body of a failed SendMail, SmartForward or
// SmartReply (success has an empty body).
type SendMailResponse struct {
	XMLName struct{}      `wbxml:"ComposeMail:SendMail"`
	Status  int           `wbxml:"Status"`
	Unknown []*wbxml.Node `wbxml:",any"`
}

// SmartForwardResponse is a failed SmartForward's body.
type SmartForwardResponse struct {
	XMLName struct{}      `wbxml:"ComposeMail:SmartForward"`
	Status  int           `wbxml:"Status"`
	Unknown []*wbxml.Node `wbxml:",any"`
}

// SmartReplyResponse is a failed SmartReply's body.
type SmartReplyResponse struct {
	XMLName struct{}      `wbxml:"ComposeMail:SmartReply"`
	Status  int           `wbxml:"Status"`
	Unknown []*wbxml.Node `wbxml:",any"`
}
