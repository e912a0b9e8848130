package app

import (
	"fmt"
	"mime"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

// Two guards keep other sites from using a visitor's browser against this
// server (and, through it, against the rollback rules):
//
//   - The JSON API takes only Content-Type: application/json. A page on
//     another site can post a form or a "simple" fetch (text/plain,
//     form-encoded, multipart) without asking; application/json needs a
//     CORS preflight, which this server never grants.
//   - The HTML forms are checked with net/http's CrossOriginProtection:
//     the browser's Sec-Fetch-Site header, or else Origin against Host, must
//     say same origin. Requests with neither (curl, scripts) are not from a
//     browser and pass. The page sends Referrer-Policy: same-origin so that
//     browsers send a real Origin on same-origin posts (with no-referrer
//     they send "Origin: null", even to the page's own server).

// requireJSON refuses a body that is not declared as JSON with 415.
func requireJSON(c *gin.Context) {
	ct := c.GetHeader("Content-Type")
	if ct == "application/json" { // the common case, without parsing
		return
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil && mt == "application/json" {
		return
	}
	shown := "none"
	if ct != "" {
		shown = strconv.Quote(ct)
	}
	abortJSON(c, newError(http.StatusUnsupportedMediaType, "",
		"Content-Type %s is not accepted: send the body as JSON with Content-Type: application/json (curl: --json '{\"title\": \"...\"}')", shown))
}

// newCrossOrigin builds the form check, trusting the given extra origins
// (scheme://host[:port]) for a page served under another name.
func newCrossOrigin(trusted []string) (*http.CrossOriginProtection, error) {
	cop := http.NewCrossOriginProtection()
	for _, o := range trusted {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("trusted origin %q: %w; write it as scheme://host[:port]", o, err)
		}
	}
	return cop, nil
}

// sameOrigin refuses a cross-site post with 403: as JSON on the API (where
// requireJSON already stops what a browser could send), on the page for
// the forms.
func (s *Server) sameOrigin(c *gin.Context) {
	if err := s.crossOrigin.Check(c.Request); err != nil {
		s.metrics.crossSiteRefused.Inc()
		if isAPI(c.Request.URL.Path) || c.Request.URL.Path == "/predict" {
			abortJSON(c, newError(http.StatusForbidden, "", "cross-origin request refused: %v; call the API from this server's own pages or from outside a browser", err))
			return
		}
		v := s.view()
		v.Notice = "This form was sent from another site, so it was refused. Open this page's own address and try again."
		s.render(c, http.StatusForbidden, v)
		c.Abort()
	}
}
