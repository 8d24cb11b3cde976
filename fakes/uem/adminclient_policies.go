package uem

import (
	"context"
	"net/http"
)

// Policies lists the ActiveSync policies with their "# Phones" (ASP-16).
func (c *AdminClient) Policies(ctx context.Context) ([]PolicyInfo, error) {
	var out []PolicyInfo
	return out, c.call(ctx, http.MethodGet, "/policies", nil, &out)
}
