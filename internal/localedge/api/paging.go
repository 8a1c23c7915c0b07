package api

import (
	"encoding/base64"
	"net/http"
	"strconv"
)

// PageParams reads Cloudflare's page/per_page query parameters with the endpoint's default
// and maximum per_page.
func PageParams(r *http.Request, defaultPerPage, maxPerPage int) (page, perPage int, err error) {
	page, perPage = 1, defaultPerPage
	if v := r.URL.Query().Get("page"); v != "" {
		page, err = strconv.Atoi(v)
		if err != nil || page < 1 {
			return 0, 0, Errorf(http.StatusBadRequest, 10001, "page must be a positive integer, got %q", v)
		}
	}
	if v := r.URL.Query().Get("per_page"); v != "" {
		perPage, err = strconv.Atoi(v)
		if err != nil || perPage < 1 || perPage > maxPerPage {
			return 0, 0, Errorf(http.StatusBadRequest, 10001, "per_page must be between 1 and %d, got %q", maxPerPage, v)
		}
	}
	return page, perPage, nil
}

// PageSlice returns the page's window of items; past the end it is empty, which is what ends
// the SDK's auto-pagers.
func PageSlice[T any](items []T, page, perPage int) []T {
	from := min((page-1)*perPage, len(items))
	to := min(from+perPage, len(items))
	return append([]T{}, items[from:to]...)
}

// PageInfo is the result_info of page-numbered lists.
func PageInfo(page, perPage, count, total int) map[string]int {
	pages := (total + perPage - 1) / perPage
	return map[string]int{"page": page, "per_page": perPage, "count": count, "total_count": total, "total_pages": pages}
}

// WritePaged writes one page of items with its result_info.
func WritePaged[T any](w http.ResponseWriter, items []T, page, perPage int) {
	window := PageSlice(items, page, perPage)
	WritePage(w, window, PageInfo(page, perPage, len(window), len(items)))
}

// EncodeCursor makes an opaque cursor: the base64 of the last key returned.
func EncodeCursor(lastKey string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(lastKey))
}

// DecodeCursor reads a cursor made by EncodeCursor.
func DecodeCursor(cursor string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return "", Errorf(http.StatusBadRequest, 10001, "invalid cursor %q", cursor)
	}
	return string(raw), nil
}

// QueryInt reads an integer query parameter; absent is 0.
func QueryInt(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, Errorf(http.StatusBadRequest, 10001, "%s must be an integer, got %q", name, v)
	}
	return n, nil
}
