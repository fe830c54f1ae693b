package sap

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// maxBatchBody bounds a $batch request.
const maxBatchBody = 32 << 20

// op is one request inside a $batch.
type op struct {
	method string
	uri    string
	header textproto.MIMEHeader
	body   []byte
}

// batchPart is a top-level part: a retrieve request or a change set.
type batchPart struct {
	get       *op
	changeSet []op
}

// opAnswer is one HTTP response inside a $batch answer.
type opAnswer struct {
	status int
	header [][2]string
	body   []byte
}

// partAnswer answers a top-level part: one response (a retrieve, or a
// change set that failed) or one per operation (a change set that
// succeeded).
type partAnswer struct {
	single *opAnswer
	ops    []opAnswer
}

func (s *Server) batch(w http.ResponseWriter, r *http.Request, svc *service) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" || params["boundary"] == "" {
		s.sim.Reject("validation")
		writeError(w, http.StatusBadRequest, "/IWBEP/CM_MGW_RT/004", "The $batch request needs Content-Type multipart/mixed with a boundary")
		return
	}
	parts, err := parseBatchRequest(io.LimitReader(r.Body, maxBatchBody), params["boundary"])
	if err != nil {
		s.sim.Reject("validation")
		writeError(w, http.StatusBadRequest, "/IWBEP/CM_MGW_RT/004", "Malformed $batch request: "+err.Error())
		return
	}
	answers := make([]partAnswer, len(parts))
	committed := false
	for i, p := range parts {
		if p.get != nil {
			answers[i] = partAnswer{single: s.retrieve(svc, p.get)}
			continue
		}
		a, created := s.changeSet(svc, p.changeSet)
		answers[i] = a
		committed = committed || created
	}
	if committed && s.sim.Committed(w) {
		return // committed, and the answer is lost
	}
	var buf bytes.Buffer
	ct := writeBatchAnswer(&buf, answers)
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK) // always 200: the outcome of each part is inside
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) retrieve(svc *service, o *op) *opAnswer {
	u, err := url.Parse(o.uri)
	if o.method != http.MethodGet || err != nil || u.Path != svc.entitySet {
		return failure(invalid("/IWBEP/CM_MGW_RT/021", "Only GET %s is supported outside a change set", svc.entitySet))
	}
	st, body := s.query(svc, u.Query())
	return &opAnswer{status: st, header: [][2]string{{"Content-Type", "application/json"}}, body: body}
}

func failure(e *opError) *opAnswer {
	return &opAnswer{status: e.status, header: [][2]string{{"Content-Type", "application/json"}}, body: odataError(e.code, e.msg)}
}

// changeSet runs a change set atomically: every operation is validated
// before anything is created, so a refused operation leaves nothing
// behind. A repeated Repeatability-Request-ID answers the stored result.
func (s *Server) changeSet(svc *service, ops []op) (partAnswer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	repeat := !s.ignoreRepeat[svc.name]
	answers := make([]opAnswer, len(ops))
	docs := make([]map[string]json.RawMessage, len(ops))
	var fresh []int
	for i, o := range ops {
		if o.method != http.MethodPost || o.uri != svc.entitySet {
			s.sim.Reject("validation")
			return partAnswer{single: failure(&opError{status: http.StatusMethodNotAllowed, code: "/IWBEP/CM_MGW_RT/021",
				msg: fmt.Sprintf("%s %s is not supported in a change set", o.method, o.uri)})}, false
		}
		id := o.header.Get("Repeatability-Request-ID")
		if repeat && id != "" {
			if _, err := http.ParseTime(o.header.Get("Repeatability-First-Sent")); err != nil {
				s.sim.Reject("validation")
				return partAnswer{single: failure(invalid("REPEATABILITY", "Repeatability-First-Sent must be an IMF-fixdate"))}, false
			}
			if a, ok := s.repeats[svc.name+"|"+id]; ok {
				answers[i] = a
				continue
			}
		}
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(o.body, &doc); err != nil || doc == nil {
			s.sim.Reject("validation")
			return partAnswer{single: failure(invalid("/IWBEP/CM_MGW_RT/006", "The request body is not a JSON object"))}, false
		}
		if err := svc.validate(doc); err != nil {
			s.sim.Reject("validation")
			return partAnswer{single: failure(err)}, false
		}
		docs[i] = doc
		fresh = append(fresh, i)
	}
	refs := map[string]bool{}
	if s.records[svc.name] == nil {
		s.records[svc.name] = map[string]*Record{}
	}
	for _, i := range fresh {
		doc := docs[i]
		s.seq++
		key := strconv.FormatInt(svc.first+s.seq, 10)
		ref, _ := str(doc, svc.refField)
		var net string
		_ = json.Unmarshal(doc["_net"], &net)
		delete(doc, "_net")
		cur, _ := str(doc, "TransactionCurrency")
		payload, _ := json.Marshal(doc)
		s.records[svc.name][key] = &Record{Service: svc.name, Key: key, Reference: ref, NetAmount: net, Currency: cur, Payload: payload}
		refs[ref] = true
		d := map[string]any{
			"__metadata": map[string]string{"type": svc.name + "." + svc.entitySet + "Type",
				"uri": servicePrefix + svc.name + "/" + svc.entitySet + "('" + key + "')"},
			svc.keyField: key, svc.refField: ref,
		}
		if net != "" {
			d["TotalNetAmount"], d["TransactionCurrency"] = net, cur
		}
		if svc.keyField == "MaterialDocument" {
			d["MaterialDocumentYear"] = strconv.Itoa(time.Now().Year())
		}
		body, _ := json.Marshal(map[string]any{"d": d})
		a := opAnswer{status: http.StatusCreated, body: body, header: [][2]string{
			{"Content-Type", "application/json"},
			{"Location", svc.entitySet + "('" + key + "')"},
		}}
		if id := ops[i].header.Get("Repeatability-Request-ID"); repeat && id != "" {
			a.header = append(a.header, [2]string{"Repeatability-Result", "accepted"})
			s.repeats[svc.name+"|"+id] = a
		}
		answers[i] = a
	}
	sorted := make([]string, 0, len(refs))
	for ref := range refs {
		sorted = append(sorted, ref)
	}
	sort.Strings(sorted)
	for _, ref := range sorted {
		s.sim.Create(ref) // one record per document, however many operations it took
	}
	return partAnswer{ops: answers}, len(fresh) > 0
}

var errFormat = errors.New("malformed part")

func parseBatchRequest(r io.Reader, boundary string) ([]batchPart, error) {
	mr := multipart.NewReader(r, boundary)
	var out []batchPart
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		ct := p.Header.Get("Content-Type")
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil {
			return nil, fmt.Errorf("part %d: %w", len(out)+1, err)
		}
		switch {
		case mt == "multipart/mixed" && params["boundary"] != "":
			ops, err := parseChangeSet(p, params["boundary"])
			if err != nil {
				return nil, fmt.Errorf("part %d: %w", len(out)+1, err)
			}
			out = append(out, batchPart{changeSet: ops})
		case mt == "application/http":
			o, err := parseOp(p)
			if err != nil {
				return nil, fmt.Errorf("part %d: %w", len(out)+1, err)
			}
			out = append(out, batchPart{get: &o})
		default:
			return nil, fmt.Errorf("part %d: %w: Content-Type %q", len(out)+1, errFormat, ct)
		}
	}
}

func parseChangeSet(r io.Reader, boundary string) ([]op, error) {
	mr := multipart.NewReader(r, boundary)
	var ops []op
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if mt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); mt != "application/http" {
			return nil, fmt.Errorf("%w: change set part of type %q", errFormat, p.Header.Get("Content-Type"))
		}
		o, err := parseOp(p)
		if err != nil {
			return nil, err
		}
		ops = append(ops, o)
	}
	if len(ops) == 0 {
		return nil, fmt.Errorf("%w: empty change set", errFormat)
	}
	return ops, nil
}

// parseOp reads "METHOD uri HTTP/1.1", headers and the body. The URI is
// relative to the service root (A_SalesOrder), which http.ReadRequest
// refuses, so the request line is read with net/textproto.
func parseOp(r io.Reader) (op, error) {
	br := bufio.NewReader(r)
	tr := textproto.NewReader(br)
	line, err := tr.ReadLine()
	if err != nil {
		return op{}, fmt.Errorf("%w: request line: %w", errFormat, err)
	}
	method, rest, ok1 := strings.Cut(line, " ")
	uri, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || !strings.HasPrefix(proto, "HTTP/") {
		return op{}, fmt.Errorf("%w: request line %q", errFormat, line)
	}
	h, err := tr.ReadMIMEHeader()
	if err != nil && !errors.Is(err, io.EOF) {
		return op{}, fmt.Errorf("%w: headers: %w", errFormat, err)
	}
	var body []byte
	if cl := h.Get("Content-Length"); cl != "" {
		n, err := strconv.Atoi(cl)
		if err != nil || n < 0 || n > maxBatchBody {
			return op{}, fmt.Errorf("%w: Content-Length %q", errFormat, cl)
		}
		body = make([]byte, n)
		if _, err := io.ReadFull(br, body); err != nil {
			return op{}, fmt.Errorf("%w: body: %w", errFormat, err)
		}
	} else {
		body, _ = io.ReadAll(br)
		body = bytes.TrimSpace(body)
	}
	return op{method: method, uri: strings.TrimPrefix(uri, "/"), header: h, body: body}, nil
}

// writeBatchAnswer writes the multipart/mixed answer and returns its
// Content-Type.
func writeBatchAnswer(w io.Writer, answers []partAnswer) string {
	mw := multipart.NewWriter(w)
	_ = mw.SetBoundary("batch_" + random(8))
	for _, a := range answers {
		if a.single != nil {
			pw, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/http"}, "Content-Transfer-Encoding": {"binary"}})
			writeHTTP(pw, a.single)
			continue
		}
		cs := "changeset_" + random(8)
		pw, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"multipart/mixed; boundary=" + cs}})
		cw := multipart.NewWriter(pw)
		_ = cw.SetBoundary(cs)
		for i := range a.ops {
			ow, _ := cw.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/http"}, "Content-Transfer-Encoding": {"binary"}})
			writeHTTP(ow, &a.ops[i])
		}
		_ = cw.Close()
	}
	_ = mw.Close()
	return "multipart/mixed; boundary=" + mw.Boundary()
}

func writeHTTP(w io.Writer, a *opAnswer) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", a.status, http.StatusText(a.status))
	for _, h := range a.header {
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(a.body))
	b.Write(a.body)
	b.WriteString("\r\n")
	_, _ = w.Write(b.Bytes())
}
