package alerts

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
)

// deliveryTimeout bounds one mail or webhook post.
const deliveryTimeout = 10 * time.Second

// mail sends alerts as one message to the Email List.
func (n *Notifier) mail(alerts []Alert) {
	if err := n.sendMail(alerts); err != nil {
		n.log.Warn("alert e-mail not sent", "alerts", len(alerts), "error", err)
	}
}

func (n *Notifier) sendMail(alerts []Alert) error {
	s := n.cfg.SMTP
	addr := net.JoinHostPort(s.Server, strconv.Itoa(s.Port))
	tc := &tls.Config{ServerName: s.Server, InsecureSkipVerify: s.InsecureSkipVerify} //nolint:gosec // opt-in, lab servers
	var c *gosmtp.Client
	var err error
	switch s.TLS {
	case "smtps":
		c, err = gosmtp.DialTLS(addr, tc)
	case "starttls":
		c, err = gosmtp.DialStartTLS(addr, tc)
	default:
		c, err = gosmtp.Dial(addr)
	}
	if err != nil {
		return fmt.Errorf("smtp %s: %w", addr, err)
	}
	defer c.Close()
	c.CommandTimeout, c.SubmissionTimeout = deliveryTimeout, deliveryTimeout
	if s.AuthRequired {
		if err := c.Auth(sasl.NewPlainClient("", s.User, n.pass)); err != nil {
			return fmt.Errorf("smtp auth: %w", err)
		}
	}
	to := make([]string, len(n.cfg.Emails))
	for i, e := range n.cfg.Emails {
		to[i] = strings.TrimSpace(e)
	}
	if err := c.SendMail(s.From, to, bytes.NewReader(n.message(to, alerts))); err != nil {
		return fmt.Errorf("smtp send: %w", err)
	}
	return c.Quit()
}

// message is the mail: one line per alert, as the viewer prints it.
func (n *Notifier) message(to []string, alerts []Alert) []byte {
	var b bytes.Buffer
	subject := "Gatehouse alert " + alerts[0].ID
	if len(alerts) > 1 {
		subject = fmt.Sprintf("Gatehouse alerts: %d batched", len(alerts))
	}
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
		n.cfg.SMTP.From, strings.Join(to, ", "), subject, n.now().Format(time.RFC1123Z))
	for _, a := range alerts {
		b.WriteString(strings.ReplaceAll(a.Line(), "\n", " ") + "\r\n")
	}
	return b.Bytes()
}

// postWebhook POSTs a as JSON.
func (n *Notifier) postWebhook(a Alert) {
	ctx, cancel := context.WithTimeout(context.Background(), deliveryTimeout)
	defer cancel()
	body, _ := json.Marshal(a)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.cfg.Webhook, bytes.NewReader(body))
	if err != nil {
		n.log.Warn("alert webhook", "error", err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.log.Warn("alert webhook not delivered", "error", err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		n.log.Warn("alert webhook refused", "status", resp.StatusCode)
	}
}
