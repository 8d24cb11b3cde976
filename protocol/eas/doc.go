// Package eas holds the Exchange ActiveSync HTTP and command layer
// (MS-ASHTTP, MS-ASCMD, MS-ASPROV): protocol versions, command names and
// codes, the request query in both its plain-text and base64 forms, the
// request and OPTIONS headers, and the HTTP and ActiveSync status codes.
//
// Everything here is a pure codec: no network I/O, no logging. Parsers are
// strict about what the specifications require, bounded in the input they
// accept, and never panic on hostile input; they are fuzzed for that.
package eas
