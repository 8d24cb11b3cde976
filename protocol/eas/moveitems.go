package eas

import "github.com/gatehouse-lab/gatehouse/protocol/wbxml"

// MoveItemsRequest is a MoveItems command request.
type MoveItemsRequest struct {
	XMLName struct{}      `wbxml:"Move:MoveItems"`
	Move    []MoveItem    `wbxml:"Move"`
	Unknown []*wbxml.Node `wbxml:",any"`
}

// MoveItem moves one item from SrcFldId to DstFldId.
type MoveItem struct {
	SrcMsgId string        `wbxml:"SrcMsgId"`
	SrcFldId string        `wbxml:"SrcFldId"`
	DstFldId string        `wbxml:"DstFldId"`
	Unknown  []*wbxml.Node `wbxml:",any"`
}

// MoveItemsResponse is a MoveItems command response.
type MoveItemsResponse struct {
	XMLName  struct{}           `wbxml:"Move:MoveItems"`
	Response []MoveItemResponse `wbxml:"Response"`
	Unknown  []*wbxml.Node      `wbxml:",any"`
}

// MoveItemResponse is the outcome for one item; Status 3 is success.
type MoveItemResponse struct {
	SrcMsgId string        `wbxml:"SrcMsgId"`
	Status   int           `wbxml:"Status"`
	DstMsgId string        `wbxml:"DstMsgId,omitempty"`
	Unknown  []*wbxml.Node `wbxml:",any"`
}
