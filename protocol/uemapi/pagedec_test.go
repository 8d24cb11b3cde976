package uemapi

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestDecodeDevicePageMatchesEncodingJSON(t *testing.T) {
	inputs := []string{
		`{"items":[],"policies":{}}`,
		`{"items":null,"policies":null,"next_cursor":"10000"}`,
		`{"next_cursor":"42","items":[{"association_id":"a1","eas_device_id":"E1","user":"u@x","state":"allowed","policy_behavior":"apply_server_policy","registered":true}],"policies":{}}`,
		` { "items" : [ { "registered" : false , "user" : "caf\u00e9 \"q\" \\ \/ \n", "state":"blocked", "extra": {"a":[1,2.5e3,-3,true,null,"x\""]}, "policy_id":"p1", "policy_behavior":"assigned", "redirect_url":"https://h/x?a=1&b=<2>" } ] ,
		  "policies" : {"p1":{"id":"p1","name":"Execs","status":"active","min_password_length":8}} , "unknown": [] } `,
		`{"items":[{"association_id":null,"registered":null,"eas_device_id":"É😀"}]}`,
	}
	for _, in := range inputs {
		var want, got DevicePage
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatalf("encoding/json rejects %s: %v", in, err)
		}
		if err := decodeDevicePage([]byte(in), &got); err != nil {
			t.Fatalf("decodeDevicePage(%s): %v", in, err)
		}
		if len(want.Items) == 0 && len(got.Items) == 0 {
			want.Items, got.Items = nil, nil
		}
		if !reflect.DeepEqual(want, got) {
			t.Errorf("input %s\n got %+v\nwant %+v", in, got, want)
		}
	}
}

func TestDecodeDevicePageRejectsMalformed(t *testing.T) {
	for _, in := range []string{
		``, `[]`, `{"items":[{]}`, `{"items":[{"user":"x}]}`, `{"items":[{"registered":tru}]}`,
		`{"items":[] "policies":{}}`, `{"items":[]} x`, `{"items":[{"user":1}]}`, `{"next_cursor":"a` + "\x01" + `"}`,
	} {
		var p DevicePage
		if err := decodeDevicePage([]byte(in), &p); err == nil {
			t.Errorf("accepted %q", in)
		}
	}
}

func FuzzDecodeDevicePage(f *testing.F) {
	f.Add([]byte(`{"items":[{"association_id":"a1","user":"u","registered":true}],"policies":{},"next_cursor":"1"}`))
	f.Add([]byte(`{"items":[{"x":[1,{"y":"\u0041"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var p DevicePage
		if decodeDevicePage(data, &p) == nil && !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
	})
}

func TestDecodeDevicePageReusesItems(t *testing.T) {
	var p DevicePage
	if err := decodeDevicePage([]byte(`{"items":[{"user":"a","redirect_url":"r"},{"user":"b"}],"next_cursor":"2"}`), &p); err != nil {
		t.Fatal(err)
	}
	first := &p.Items[0]
	if err := decodeDevicePage([]byte(`{"items":[{"user":"c"}]}`), &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 1 || p.Items[0] != (DeviceEntry{User: "c"}) || p.NextCursor != "" || &p.Items[0] != first {
		t.Fatalf("reused page %+v", p)
	}
}
