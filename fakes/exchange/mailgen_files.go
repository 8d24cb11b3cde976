package exchange

import (
	"archive/zip"
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"strings"
	"time"
)

// The files Generator attaches: PDF, OOXML (docx, xlsx), pictures,
// calendar invitations, logs and text.

// attachmentKinds are the file types Attachment makes, with weights that
// favour documents and pictures.
var attachmentKinds = []string{"pdf", "pdf", "docx", "xlsx", "jpg", "jpg", "png", "txt", "ics", "log"}

// Attachment makes one file of the given kind (pdf, docx, xlsx, jpg, png,
// txt, ics, log), or a random kind when kind is "".
func (g *Generator) Attachment(kind string) MailAttachment {
	if kind == "" {
		kind = g.pick(attachmentKinds)
	}
	base := strings.ToLower(strings.ReplaceAll(g.pick(topics), " ", "-"))
	name := fmt.Sprintf("%s-%d.%s", base, g.rng.IntN(1000), kind)
	switch kind {
	case "pdf":
		return MailAttachment{Name: name, ContentType: "application/pdf", Data: g.pdf(4<<10 + g.rng.IntN(300<<10))}
	case "docx":
		return MailAttachment{Name: name, ContentType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document", Data: g.ooxml("word")}
	case "xlsx":
		return MailAttachment{Name: name, ContentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Data: g.ooxml("xl")}
	case "jpg":
		return MailAttachment{Name: name, ContentType: "image/jpeg", Data: g.picture(true)}
	case "png":
		return MailAttachment{Name: name, ContentType: "image/png", Data: g.picture(false)}
	case "ics":
		return MailAttachment{Name: name, ContentType: "text/calendar", Data: g.ics()}
	case "log":
		return MailAttachment{Name: name, ContentType: "text/plain", Data: g.log(200 + g.rng.IntN(3000))}
	default:
		return MailAttachment{Name: strings.TrimSuffix(name, "."+kind) + ".txt", ContentType: "text/plain", Data: []byte(g.paragraphs(2 + g.rng.IntN(6)))}
	}
}

func (g *Generator) pdf(size int) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n")
	b.WriteString("2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n")
	b.WriteString("3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>\nendobj\n")
	fmt.Fprintf(&b, "4 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n", size)
	chunk := make([]byte, size)
	for i := range chunk {
		chunk[i] = byte(g.rng.UintN(256))
	}
	b.Write(chunk)
	b.WriteString("\nendstream\nendobj\ntrailer\n<< /Root 1 0 R /Size 5 >>\nstartxref\n0\n%%EOF\n")
	return b.Bytes()
}

func (g *Generator) ooxml(dir string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	mod := time.Date(2026, 1, 2, 9, 30, 0, 0, time.UTC)
	add := func(name, content string) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: mod})
		if err == nil {
			_, _ = io.WriteString(w, content)
		}
	}
	main := "word/document.xml"
	ctype := "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
	if dir == "xl" {
		main, ctype = "xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
	}
	add("[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+"\n"+
		`<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/`+main+`" ContentType="`+ctype+`"/></Types>`)
	add("_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+"\n"+
		`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="`+main+`"/></Relationships>`)
	var body strings.Builder
	for i := 0; i < 20+g.rng.IntN(200); i++ {
		if dir == "xl" {
			fmt.Fprintf(&body, `<row r="%d"><c r="A%d" t="inlineStr"><is><t>%s</t></is></c><c r="B%d"><v>%d</v></c></row>`, i+1, i+1, g.pick(words), i+1, g.rng.IntN(100000))
		} else {
			fmt.Fprintf(&body, `<w:p><w:r><w:t>%s</w:t></w:r></w:p>`, g.sentence(8+g.rng.IntN(12)))
		}
	}
	if dir == "xl" {
		add(main, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="Sheet1" sheetId="1"/></sheets></workbook>`)
		add("xl/worksheets/sheet1.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`+body.String()+`</sheetData></worksheet>`)
	} else {
		add(main, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`+body.String()+`</w:body></w:document>`)
	}
	_ = zw.Close()
	return b.Bytes()
}

func (g *Generator) picture(isJPEG bool) []byte {
	w, h := 48+g.rng.IntN(400), 48+g.rng.IntN(300)
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r0, g0, b0 := g.rng.IntN(256), g.rng.IntN(256), g.rng.IntN(256)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(r0 + x), uint8(g0 + y), uint8(b0 + x*y/64), 255})
		}
	}
	var b bytes.Buffer
	if isJPEG {
		_ = jpeg.Encode(&b, img, &jpeg.Options{Quality: 80})
	} else {
		_ = png.Encode(&b, img)
	}
	return b.Bytes()
}

func (g *Generator) ics() []byte {
	start := g.base.Add(time.Duration(g.rng.IntN(60*24)) * time.Hour)
	return []byte(strings.Join([]string{
		"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//gatehouse//mailgen//EN", "METHOD:REQUEST", "BEGIN:VEVENT",
		fmt.Sprintf("UID:%08x@%s", g.rng.Uint32(), g.domain),
		"DTSTAMP:" + g.base.Format("20060102T150405Z"),
		"DTSTART:" + start.Format("20060102T150405Z"),
		"DTEND:" + start.Add(time.Hour).Format("20060102T150405Z"),
		"SUMMARY:" + g.pick(topics), "LOCATION:Room " + fmt.Sprint(100+g.rng.IntN(400)),
		"END:VEVENT", "END:VCALENDAR", "",
	}, "\r\n"))
}

func (g *Generator) log(lines int) []byte {
	var b bytes.Buffer
	t := g.base
	levels := []string{"INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"}
	for i := 0; i < lines; i++ {
		t = t.Add(time.Duration(g.rng.IntN(5000)) * time.Millisecond)
		fmt.Fprintf(&b, "%s %-5s [worker-%d] %s\n", t.Format("2006-01-02T15:04:05.000Z"), g.pick(levels), g.rng.IntN(8), g.sentence(5+g.rng.IntN(8)))
	}
	return b.Bytes()
}
