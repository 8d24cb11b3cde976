package exchange

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// Search status values (MS-ASCMD 2.2.3.177.16): the global one and the
// Store's.
const (
	searchOK         = 1
	searchBadRequest = 2
	searchServerErr  = 3
	defaultRangeEnd  = 99
	maxSearchResults = 1000
)

// searchHit is one item a Mailbox search or Find matched.
type searchHit struct {
	f  *folder
	it *item
}

// cmdSearch answers a Search of the Mailbox (free text over subject,
// addresses and body, optionally within a CollectionId and a Class) or of
// the GAL (the mailbox users, by prefix of name, display name or
// address); the result window is Options/Range ("0-99" by default) and
// Total counts every match. A DocumentLibrary store or an unknown name is
// Status 2 in the Store.
func (s *Server) cmdSearch(rc *reqCtx) {
	req := s.decodeTree(rc, "Search:Search")
	if req == nil {
		return
	}
	store := kid(req, "Search:Store")
	if store == nil {
		s.writeTree(rc, el("Search:Search", txt("Search:Status", itoa(searchBadRequest))))
		return
	}
	name := text(store, "Search:Name")
	lo, hi, okRange := windowRange(text(kid(store, "Search:Options"), "Search:Range"))
	query := kid(store, "Search:Query")
	out := el("Search:Store")
	switch {
	case !okRange || query == nil:
		out.Children = append(out.Children, txt("Search:Status", itoa(searchBadRequest)))
	case strings.EqualFold(name, "GAL"):
		users := s.galMatches(strings.TrimSpace(query.Text()))
		out.Children = append(out.Children, txt("Search:Status", itoa(searchOK)))
		for i := lo; i <= hi && i < len(users); i++ {
			u := users[i]
			out.Children = append(out.Children, el("Search:Result", el("Search:Properties",
				txt("GAL:DisplayName", u.DisplayName), txt("GAL:Alias", u.Name), txt("GAL:EmailAddress", u.Email))))
		}
		out.Children = append(out.Children, windowTail("Search", lo, hi, len(users))...)
	case strings.EqualFold(name, "Mailbox"):
		free, class, coll := searchCriteria(query, "Search:")
		hits := s.mailboxMatches(rc.mb, free, class, coll)
		out.Children = append(out.Children, txt("Search:Status", itoa(searchOK)))
		for i := lo; i <= hi && i < len(hits); i++ {
			h := hits[i]
			out.Children = append(out.Children, el("Search:Result",
				txt("AirSync:Class", "Email"), txt("Search:LongId", h.it.ServerID), txt("AirSync:CollectionId", h.f.ID),
				el("Search:Properties", itemProperties(h.it)...)))
		}
		out.Children = append(out.Children, windowTail("Search", lo, hi, len(hits))...)
	default:
		out.Children = append(out.Children, txt("Search:Status", itoa(searchBadRequest)))
	}
	s.writeTree(rc, el("Search:Search", txt("Search:Status", itoa(searchOK)), el("Search:Response", out)))
}

// windowTail is the Range and Total after the results: Range only when
// something is returned (Exchange omits it for an empty result).
func windowTail(page string, lo, hi, total int) []*wbxml.Node {
	var out []*wbxml.Node
	if total > lo {
		last := min(hi, total-1)
		out = append(out, txt(page+":Range", itoa(lo)+"-"+itoa(last)))
	}
	return append(out, txt(page+":Total", itoa(total)))
}

// windowRange reads "m-n" (0 <= m <= n); "" is 0-99.
func windowRange(r string) (lo, hi int, ok bool) {
	if r == "" {
		return 0, defaultRangeEnd, true
	}
	a, b, found := strings.Cut(r, "-")
	lo, err1 := strconv.Atoi(a)
	hi, err2 := strconv.Atoi(b)
	if !found || err1 != nil || err2 != nil || lo < 0 || hi < lo || hi-lo >= maxSearchResults {
		return 0, 0, false
	}
	return lo, hi, true
}

// searchCriteria collects the free text, class and collection of a
// Mailbox query wherever they sit under And/Or (Search) or directly
// (Find); prefix is the page of FreeText ("Search:" or "Find:").
func searchCriteria(q *wbxml.Node, prefix string) (free, class, coll string) {
	var walk func(n *wbxml.Node, depth int)
	walk = func(n *wbxml.Node, depth int) {
		if depth > 8 {
			return
		}
		for _, c := range n.Children {
			switch c.Tag.String() {
			case prefix + "FreeText":
				free = c.Text()
			case "AirSync:Class":
				class = c.Text()
			case "AirSync:CollectionId":
				coll = c.Text()
			default:
				walk(c, depth+1)
			}
		}
	}
	walk(q, 0)
	return strings.TrimSpace(free), class, coll
}

// mailboxMatches lists the items whose subject, addresses or text contain
// every word of free (case-insensitive), newest first.
func (s *Server) mailboxMatches(m *mailbox, free, class, coll string) []searchHit {
	words := strings.Fields(strings.ToLower(free))
	m.mu.Lock()
	defer m.mu.Unlock()
	var hits []searchHit
	for _, f := range m.folders {
		if (coll != "" && f.ID != coll) || (class != "" && !strings.EqualFold(class, f.Class)) || f.Class != "Email" {
			continue
		}
		for _, it := range f.items {
			hay := strings.ToLower(strings.Join([]string{it.Msg.Subject, it.Msg.From, it.Msg.To, it.Msg.Cc, it.Msg.Text}, "\n"))
			match := len(words) > 0
			for _, w := range words {
				match = match && strings.Contains(hay, w)
			}
			if match {
				hits = append(hits, searchHit{f, it})
			}
		}
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].it.Received.After(hits[j].it.Received) })
	return hits
}

// galMatches lists the users whose logon name, display name, a word of
// it, or address starts with q (case-insensitive), sorted by name.
func (s *Server) galMatches(q string) []User {
	q = strings.ToLower(q)
	if q == "" {
		return nil
	}
	var out []User
	for _, u := range s.Users() {
		cands := append([]string{u.Name, u.DisplayName, u.Email}, strings.Fields(u.DisplayName)...)
		for _, c := range cands {
			if strings.HasPrefix(strings.ToLower(c), q) {
				out = append(out, u)
				break
			}
		}
	}
	return out
}

// itemProperties are the Email properties of a search result.
func itemProperties(it *item) []*wbxml.Node {
	pm := it.Msg
	read := "0"
	if it.Read {
		read = "1"
	}
	return []*wbxml.Node{
		txt("Email:To", pm.To), txt("Email:From", pm.From), txt("Email:Subject", pm.Subject),
		txt("Email:DateReceived", it.Received.UTC().Format(dateFormat)), txt("Email:DisplayTo", displayNames(pm.To)),
		txt("Email:Read", read), txt("Email:Importance", itoa(pm.Importance)),
	}
}

// Find status values (MS-ASCMD 2.2.3.177.7, protocol 16.1).
const (
	findOK         = 1
	findBadRequest = 2
)

// cmdFind answers the 16.1 Find command: a mailbox search (free text,
// optional Class and CollectionId) or a GAL search, with the Range and
// Total of Search. Earlier protocol versions do not have the command
// (HTTP 501, as for any command the server does not offer).
func (s *Server) cmdFind(rc *reqCtx) {
	if rc.version() < eas.V161 {
		http.Error(rc.w, "Find needs protocol 16.1", http.StatusNotImplemented)
		return
	}
	req := s.decodeTree(rc, "Find:Find")
	if req == nil {
		return
	}
	exec := kid(req, "Find:ExecuteSearch")
	mailbox, gal := kid(exec, "Find:MailBoxSearchCriterion"), kid(exec, "Find:GalSearchCriterion")
	crit := mailbox
	if crit == nil {
		crit = gal
	}
	lo, hi, okRange := windowRange(text(kid(crit, "Find:Options"), "Find:Range"))
	query := kid(crit, "Find:Query")
	if text(req, "Find:SearchId") == "" || crit == nil || query == nil || !okRange {
		s.writeTree(rc, el("Find:Find", txt("Find:Status", itoa(findBadRequest))))
		return
	}
	free, class, coll := searchCriteria(query, "Find:")
	resp := el("Find:Response")
	if mailbox != nil {
		hits := s.mailboxMatches(rc.mb, free, class, coll)
		resp.Children = append(resp.Children, txt("ItemOperations:Store", "Mailbox"), txt("Find:Status", itoa(findOK)))
		for i := lo; i <= hi && i < len(hits); i++ {
			h := hits[i]
			props := append(itemProperties(h.it), txt("Find:Preview", preview(h.it.Msg.Text)),
				txt("Find:HasAttachments", boolDigit(len(h.it.Msg.Attachments) > 0)))
			resp.Children = append(resp.Children, el("Find:Result", txt("AirSync:Class", "Email"),
				txt("AirSync:ServerId", h.it.ServerID), txt("AirSync:CollectionId", h.f.ID), el("Find:Properties", props...)))
		}
		resp.Children = append(resp.Children, windowTail("Find", lo, hi, len(hits))...)
	} else {
		users := s.galMatches(free)
		resp.Children = append(resp.Children, txt("ItemOperations:Store", "GAL"), txt("Find:Status", itoa(findOK)))
		for i := lo; i <= hi && i < len(users); i++ {
			u := users[i]
			resp.Children = append(resp.Children, el("Find:Result", el("Find:Properties",
				txt("GAL:DisplayName", u.DisplayName), txt("GAL:Alias", u.Name), txt("GAL:EmailAddress", u.Email))))
		}
		resp.Children = append(resp.Children, windowTail("Find", lo, hi, len(users))...)
	}
	s.writeTree(rc, el("Find:Find", txt("Find:Status", itoa(findOK)), resp))
}

func preview(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 255 {
		return string(r[:255])
	}
	return s
}

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
