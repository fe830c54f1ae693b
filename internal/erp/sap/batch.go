package sap

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// An OData V2 $batch request is a multipart/mixed body of retrieve
// operations and change sets; a change set is itself multipart/mixed and
// atomic: all of its operations succeed or none does. Each operation is an
// HTTP request in an application/http part with Content-Transfer-Encoding
// binary. The answer mirrors the request, part for part, inside one
// "200 OK": a change set that succeeded answers a multipart/mixed part with
// one response per operation; one that failed answers a single
// application/http response carrying the error.
//
// OData Version 2.0/3.0 "Batch Processing" (www.odata.org/documentation/
// odata-version-3-0/batch-processing; "defined as part of OData version 1"),
// and SAP Gateway "$batch Processing" (help.sap.com/doc/saphelp_nw75/7.5.5/
// en-US/94/a126519eff236ee10000000a445394/content.htm).

// operation is one request inside a change set.
type operation struct {
	method string
	path   string // relative to the service root: A_SalesOrder
	header [][2]string
	body   []byte
}

// writeBatch writes change sets (one per document) as a $batch body and
// returns its Content-Type. Boundaries are batch_<id> and
// changeset_<id>_<n>; headers are written in a fixed order so the body is
// reproducible (golden files).
func writeBatch(w io.Writer, id string, changeSets [][]operation) (string, error) {
	mw := multipart.NewWriter(w)
	if err := mw.SetBoundary("batch_" + id); err != nil {
		return "", fmt.Errorf("batch boundary: %w", err)
	}
	for n, ops := range changeSets {
		cs := fmt.Sprintf("changeset_%s_%d", id, n+1)
		pw, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"multipart/mixed; boundary=" + cs}})
		if err != nil {
			return "", err
		}
		cw := multipart.NewWriter(pw)
		if err := cw.SetBoundary(cs); err != nil {
			return "", fmt.Errorf("change set boundary: %w", err)
		}
		for i, op := range ops {
			ow, err := cw.CreatePart(textproto.MIMEHeader{
				"Content-Type":              {"application/http"},
				"Content-Transfer-Encoding": {"binary"},
				"Content-ID":                {strconv.Itoa(i + 1)},
			})
			if err != nil {
				return "", err
			}
			var b bytes.Buffer
			fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", op.method, op.path)
			for _, h := range op.header {
				fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
			}
			if op.body != nil {
				fmt.Fprintf(&b, "Content-Length: %d\r\n", len(op.body))
			}
			b.WriteString("\r\n")
			b.Write(op.body)
			b.WriteString("\r\n")
			if _, err := ow.Write(b.Bytes()); err != nil {
				return "", err
			}
		}
		if err := cw.Close(); err != nil {
			return "", err
		}
	}
	if err := mw.Close(); err != nil {
		return "", err
	}
	return "multipart/mixed; boundary=" + mw.Boundary(), nil
}

// response is one HTTP response found in a batch answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// result is one top-level part of a batch answer: a retrieve operation or a
// change set that failed (a single response), or a change set that
// succeeded (one response per operation, in ops).
type result struct {
	response
	changeSet bool
	ops       []response
}

// Limits on what the parser accepts, so a hostile or broken answer cannot
// exhaust memory.
const (
	maxParts    = 1000
	maxPartBody = 16 << 20
)

var errBatchFormat = errors.New("malformed $batch response")

// parseBatch reads a multipart/mixed $batch answer.
func parseBatch(contentType string, body io.Reader) ([]result, error) {
	boundary, err := multipartBoundary(contentType)
	if err != nil {
		return nil, err
	}
	mr := multipart.NewReader(body, boundary)
	var out []result
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: part %d: %w", errBatchFormat, len(out)+1, err)
		}
		if len(out) == maxParts {
			return nil, fmt.Errorf("%w: more than %d parts", errBatchFormat, maxParts)
		}
		var r result
		ct := p.Header.Get("Content-Type")
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "multipart/") {
			r.changeSet = true
			r.ops, err = parseChangeSet(ct, p)
		} else {
			r.response, err = parseResponse(ct, p)
		}
		if err != nil {
			return nil, fmt.Errorf("part %d: %w", len(out)+1, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func parseChangeSet(contentType string, body io.Reader) ([]response, error) {
	boundary, err := multipartBoundary(contentType)
	if err != nil {
		return nil, err
	}
	mr := multipart.NewReader(body, boundary)
	var out []response
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: change set part %d: %w", errBatchFormat, len(out)+1, err)
		}
		if len(out) == maxParts {
			return nil, fmt.Errorf("%w: more than %d operations in a change set", errBatchFormat, maxParts)
		}
		r, err := parseResponse(p.Header.Get("Content-Type"), p)
		if err != nil {
			return nil, fmt.Errorf("change set part %d: %w", len(out)+1, err)
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: empty change set", errBatchFormat)
	}
	return out, nil
}

// parseResponse reads an application/http part: a status line, headers
// and a body, parsed by net/http itself.
func parseResponse(contentType string, body io.Reader) (response, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/http" {
		return response{}, fmt.Errorf("%w: part of type %q, want application/http", errBatchFormat, contentType)
	}
	resp, err := http.ReadResponse(bufio.NewReader(io.LimitReader(body, maxPartBody+64<<10)), nil)
	if err != nil {
		return response{}, fmt.Errorf("%w: %w", errBatchFormat, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		return response{}, fmt.Errorf("%w: status %d", errBatchFormat, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxPartBody+1))
	if err != nil {
		return response{}, fmt.Errorf("%w: body: %w", errBatchFormat, err)
	}
	if len(b) > maxPartBody {
		return response{}, fmt.Errorf("%w: a part body is over %d bytes", errBatchFormat, maxPartBody)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

func multipartBoundary(contentType string) (string, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", fmt.Errorf("%w: content type %q: %w", errBatchFormat, contentType, err)
	}
	if mt != "multipart/mixed" || params["boundary"] == "" {
		return "", fmt.Errorf("%w: content type %q, want multipart/mixed with a boundary", errBatchFormat, contentType)
	}
	return params["boundary"], nil
}
