package integrated

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"

	"github.com/gatehouse-lab/gatehouse/internal/httpapi"
	"github.com/gatehouse-lab/gatehouse/protocol/exmgmt"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// exchange is Exchange's management side with failover: the secondary
// server is used when the primary cannot be reached (INT-01), and the
// other one again when that one cannot.
type exchange struct {
	clients []*exmgmt.Client
	names   []string
	cur     atomic.Int32
}

func newExchange(cfg *Config, s *uemapi.IntegratedConfig) *exchange {
	e := &exchange{}
	add := func(host string, port int) {
		base := cfg.ExchangeScheme + "://" + net.JoinHostPort(host, strconv.Itoa(port))
		e.clients = append(e.clients, exmgmt.NewClient(base, s.Secret, cfg.ExchangeHTTP))
		e.names = append(e.names, net.JoinHostPort(host, strconv.Itoa(port)))
	}
	add(s.Server, s.Port)
	if s.SecondaryServer != "" {
		add(s.SecondaryServer, s.SecondaryPort)
	}
	return e
}

// unreachable says the server did not answer at all (as opposed to
// answering with an error): only then is the other server tried.
func unreachable(err error) bool {
	var api *httpapi.Error
	if errors.As(err, &api) || errors.Is(err, context.Canceled) {
		return false
	}
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &oe) || (errors.As(err, &ne) && !ne.Timeout())
}

// call runs fn on the current server, then once on the other one when the
// current one is unreachable.
func (e *exchange) call(ctx context.Context, fn func(c *exmgmt.Client) error) error {
	i := int(e.cur.Load())
	err := fn(e.clients[i])
	if err == nil || len(e.clients) == 1 || !unreachable(err) || ctx.Err() != nil {
		return err
	}
	j := (i + 1) % len(e.clients)
	if err2 := fn(e.clients[j]); err2 != nil {
		return fmt.Errorf("%s: %w; %s: %w", e.names[i], err, e.names[j], err2)
	}
	e.cur.Store(int32(j))
	return nil
}

// current names the server in use.
func (e *exchange) current() string { return e.names[e.cur.Load()] }
