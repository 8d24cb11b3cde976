package attachments

import (
	"html"
	"strings"
)

// RemovedSuffix is appended to the name of a removed attachment (ATT-05).
const RemovedSuffix = ".removed.html"

// removedText is the replacement text per language (ATT-06). English is the
// seeds' exact sentence; the seeds do not list the languages, this package
// chose these.
var removedText = map[string]string{
	"en": "The original attachment was removed as required by the security policies of your administrator.",
	"de": "Der ursprüngliche Anhang wurde gemäß den Sicherheitsrichtlinien Ihres Administrators entfernt.",
	"fr": "La pièce jointe d'origine a été supprimée conformément aux règles de sécurité de votre administrateur.",
	"es": "El archivo adjunto original se eliminó según lo exigen las políticas de seguridad de su administrador.",
	"it": "L'allegato originale è stato rimosso come richiesto dai criteri di sicurezza dell'amministratore.",
	"nl": "De oorspronkelijke bijlage is verwijderd zoals vereist door het beveiligingsbeleid van uw beheerder.",
	"pt": "O anexo original foi removido conforme exigido pelas políticas de segurança do seu administrador.",
	"ja": "元の添付ファイルは、管理者のセキュリティポリシーにより削除されました。",
}

// languageNames maps the language names devices send in OSLanguage (in
// English and in the language itself) to codes.
var languageNames = map[string]string{
	"english": "en", "german": "de", "deutsch": "de", "french": "fr", "français": "fr", "francais": "fr",
	"spanish": "es", "español": "es", "espanol": "es", "italian": "it", "italiano": "it",
	"dutch": "nl", "nederlands": "nl", "portuguese": "pt", "português": "pt", "portugues": "pt",
	"japanese": "ja", "日本語": "ja",
}

// normLang turns "de-DE", "de_CH", "Deutsch" or "ja" into a supported code,
// or "en" (United States English) when it is not supported.
func normLang(lang string) string {
	l := strings.ToLower(strings.TrimSpace(lang))
	if c, ok := languageNames[l]; ok {
		return c
	}
	if i := strings.IndexAny(l, "-_"); i >= 0 {
		l = l[:i]
	}
	if _, ok := removedText[l]; ok {
		return l
	}
	return "en"
}

// RemovedText is the replacement sentence in lang, falling back to United
// States English (ATT-06).
func RemovedText(lang string) string { return removedText[normLang(lang)] }

// RemovedHTML is the content of a .removed.html replacement file: an HTML
// document whose body is the replacement sentence.
func RemovedHTML(lang string) []byte {
	l := normLang(lang)
	if l == "en" {
		l = "en-US"
	}
	return []byte("<!DOCTYPE html>\r\n<html lang=\"" + l + "\"><head><meta charset=\"utf-8\"><title></title></head>" +
		"<body><p>" + html.EscapeString(RemovedText(lang)) + "</p></body></html>\r\n")
}
