package settlement

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// CharsetReader converts the single-byte encodings some banks and tills
// still write (ISO-8859-1, ISO-8859-15, Windows-1252) to UTF-8; UTF-8 and
// ASCII pass through. Its signature fits xml.Decoder.CharsetReader.
func CharsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return in, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1":
		return &byteDecoder{r: bufio.NewReader(in), table: nil}, nil
	case "iso-8859-15", "latin9", "latin-9":
		return &byteDecoder{r: bufio.NewReader(in), table: latin9}, nil
	case "windows-1252", "cp1252":
		return &byteDecoder{r: bufio.NewReader(in), table: cp1252}, nil
	}
	return nil, fmt.Errorf("encoding %q is not supported (UTF-8, ISO-8859-1, ISO-8859-15 and Windows-1252 are)", label)
}

// byteDecoder maps each input byte to a rune: itself (Latin-1), unless the
// table has another for it.
type byteDecoder struct {
	r     *bufio.Reader
	table map[byte]rune
	buf   []byte
}

func (d *byteDecoder) Read(p []byte) (int, error) {
	for len(d.buf) == 0 {
		b, err := d.r.ReadByte()
		if err != nil {
			return 0, err
		}
		r := rune(b)
		if v, ok := d.table[b]; ok {
			r = v
		}
		d.buf = utf8.AppendRune(d.buf, r)
	}
	n := copy(p, d.buf)
	d.buf = d.buf[n:]
	return n, nil
}

// latin9 is where ISO-8859-15 differs from ISO-8859-1.
var latin9 = map[byte]rune{0xA4: '€', 0xA6: 'Š', 0xA8: 'š', 0xB4: 'Ž', 0xB8: 'ž', 0xBC: 'Œ', 0xBD: 'œ', 0xBE: 'Ÿ'}

// cp1252 is where Windows-1252 differs from ISO-8859-1 (0x80–0x9F).
var cp1252 = map[byte]rune{
	0x80: '€', 0x82: '‚', 0x83: 'ƒ', 0x84: '„', 0x85: '…', 0x86: '†', 0x87: '‡', 0x88: 'ˆ', 0x89: '‰',
	0x8A: 'Š', 0x8B: '‹', 0x8C: 'Œ', 0x8E: 'Ž', 0x91: '‘', 0x92: '’', 0x93: '“', 0x94: '”', 0x95: '•',
	0x96: '–', 0x97: '—', 0x98: '˜', 0x99: '™', 0x9A: 'š', 0x9B: '›', 0x9C: 'œ', 0x9E: 'ž', 0x9F: 'Ÿ',
}
