package localedge

import (
	"encoding/base64"
	"net/http"
	"strconv"
)

// pageParams reads Cloudflare's page/per_page query parameters with the endpoint's default
// and maximum per_page.
func pageParams(r *http.Request, defaultPerPage, maxPerPage int) (page, perPage int, err error) {
	page, perPage = 1, defaultPerPage
	if v := r.URL.Query().Get("page"); v != "" {
		page, err = strconv.Atoi(v)
		if err != nil || page < 1 {
			return 0, 0, errorf(http.StatusBadRequest, 10001, "page must be a positive integer, got %q", v)
		}
	}
	if v := r.URL.Query().Get("per_page"); v != "" {
		perPage, err = strconv.Atoi(v)
		if err != nil || perPage < 1 || perPage > maxPerPage {
			return 0, 0, errorf(http.StatusBadRequest, 10001, "per_page must be between 1 and %d, got %q", maxPerPage, v)
		}
	}
	return page, perPage, nil
}

// pageSlice returns the page's window of n items; past the end it is empty, which is what
// ends the SDK's auto-pagers.
func pageSlice(n, page, perPage int) (from, to int) {
	from = (page - 1) * perPage
	if from > n {
		from = n
	}
	to = from + perPage
	if to > n {
		to = n
	}
	return from, to
}

// pageInfo is the result_info of page-numbered lists.
func pageInfo(page, perPage, count, total int) map[string]int {
	pages := (total + perPage - 1) / perPage
	return map[string]int{"page": page, "per_page": perPage, "count": count, "total_count": total, "total_pages": pages}
}

// Cursors are opaque to clients: the base64 of the last key returned.
func encodeCursor(lastKey string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(lastKey))
}

func decodeCursor(cursor string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return "", errorf(http.StatusBadRequest, 10001, "invalid cursor %q", cursor)
	}
	return string(raw), nil
}
