package eas

import "fmt"

func typeOf(v any) string { return fmt.Sprintf("%T", v) }
