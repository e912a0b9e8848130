package app

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/remla/tagger/model"
)

// pageView is what page.html renders.
type pageView struct {
	Input         string
	Error         string
	Notice        string
	FeedbackError string
	MissingOpen   bool
	NotFound      bool
	Result        *resultView
	Known         []knownTag
	ModelVersion  string
	Color         string
	ColorClass    string
	CodeVersion   string
	MaxTitle      int
}

type resultView struct {
	ID       string
	Title    string
	Tags     []tagView
	Answered bool
}

type tagView struct {
	model.TagScore
	Verdict string // "right", "wrong" or "" as the user last marked it
}

type knownTag struct {
	Name    string
	Checked bool
}

func (s *Server) view() *pageView {
	v := &pageView{
		ModelVersion: s.version, Color: s.cfg.Color, ColorClass: "other",
		CodeVersion: s.cfg.CodeVersion, MaxTitle: MaxTitleRunes,
	}
	if c := s.cfg.Color; c == "blue" || c == "green" {
		v.ColorClass = c
	}
	for _, t := range s.cfg.Predictor.Tags() {
		v.Known = append(v.Known, knownTag{Name: t})
	}
	return v
}

func (v *pageView) show(p *prediction, answered bool) {
	r := &resultView{ID: p.ID, Title: p.Title, Answered: answered}
	for _, t := range p.Tags {
		r.Tags = append(r.Tags, tagView{TagScore: t})
	}
	v.Result = r
	v.Input = p.Title
}

func (s *Server) render(c *gin.Context, status int, v *pageView) {
	var buf bytes.Buffer
	if err := s.pages.ExecuteTemplate(&buf, "page.html", v); err != nil {
		s.log.Error("render page", "err", err)
		c.String(http.StatusInternalServerError, "the page could not be rendered; the server logged why\n")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// page serves GET /, and GET /?p=<id> after a form post (post/redirect/get):
// the id carries the prediction, so any replica can show it.
func (s *Server) page(c *gin.Context) {
	v := s.view()
	if id := c.Query("p"); id != "" {
		p, e := s.openPrediction(id)
		if e != nil {
			v.Notice = "That prediction link is not valid: it was changed or cut short. Type the title again."
			status := http.StatusNotFound
			if e.Status == http.StatusGone {
				v.Notice, status = "That prediction is older than "+days(s.cfg.Retention)+" and no longer takes answers. Type the title again.", e.Status
			}
			s.render(c, status, v)
			return
		}
		v.show(p, s.answered(c.Request.Context(), p))
	}
	s.render(c, http.StatusOK, v)
}

// answered says whether the store holds an answer for p. A store that does
// not answer quickly counts as "not yet": the form is shown, and posting
// it says what happened.
func (s *Server) answered(ctx context.Context, p *prediction) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_, err := s.cfg.Store.Get(ctx, p.Key)
	return err == nil
}

// formError reads a form post, mapping a too-large body to 413.
func (s *Server) parseForm(c *gin.Context) *apiError {
	if err := c.Request.ParseForm(); err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return tooLarge(s.cfg.MaxBodyBytes)
		}
		return badRequest("", "the form could not be read: %v", err)
	}
	return nil
}

// pagePredict serves the title form without JavaScript.
func (s *Server) pagePredict(c *gin.Context) {
	v := s.view()
	if e := s.parseForm(c); e != nil {
		v.Error = e.Message
		s.render(c, e.Status, v)
		return
	}
	raw := c.Request.PostForm.Get("title")
	title, e := checkTitle(raw)
	if e != nil {
		v.Error, v.Input = e.Message, strings.ToValidUTF8(raw, "\uFFFD")
		s.render(c, e.Status, v)
		return
	}
	p := s.predict(title)
	c.Redirect(http.StatusSeeOther, "/?p="+url.QueryEscape(p.ID))
}

// pageFeedback serves the feedback form without JavaScript. Each predicted
// tag comes as a radio group "tag:<name>" = right|wrong, missing tags as
// repeated "missing" checkboxes, and the pressed button as happy=yes|no.
func (s *Server) pageFeedback(c *gin.Context) {
	v := s.view()
	if e := s.parseForm(c); e != nil {
		v.Error = e.Message
		s.render(c, e.Status, v)
		return
	}
	form := c.Request.PostForm
	in := feedbackInput{PredictionID: form.Get("prediction_id"), Missing: form["missing"]}
	verdicts := map[string]string{}
	for key, vals := range form {
		tag, ok := strings.CutPrefix(key, "tag:")
		if !ok || len(vals) == 0 {
			continue
		}
		switch vals[0] {
		case "right":
			in.Correct = append(in.Correct, tag)
		case "wrong":
			in.Wrong = append(in.Wrong, tag)
		}
		verdicts[tag] = vals[0]
	}
	slices.Sort(in.Correct)
	slices.Sort(in.Wrong)
	happy := form.Get("happy")
	var e *apiError
	var p *prediction
	switch happy {
	case "yes", "no":
		in.Happy = happy == "yes"
		p, e = s.recordFeedback(c.Request.Context(), in)
	default:
		e = badRequest("happy", "answer the question: are you happy with these tags? Press Yes or No")
		p, _ = s.openPrediction(in.PredictionID)
	}
	if e == nil {
		c.Redirect(http.StatusSeeOther, "/?p="+url.QueryEscape(p.ID))
		return
	}
	if p == nil {
		v.Notice = e.Message
		s.render(c, e.Status, v)
		return
	}
	// Show the prediction again with the user's marks kept and the error inline.
	setRetryAfter(c.Writer.Header(), e.retryAfter)
	v.show(p, false)
	v.FeedbackError = e.Message
	for i := range v.Result.Tags {
		v.Result.Tags[i].Verdict = verdicts[v.Result.Tags[i].Tag]
	}
	for i := range v.Known {
		if slices.Contains(in.Missing, v.Known[i].Name) {
			v.Known[i].Checked, v.MissingOpen = true, true
		}
	}
	if e.Status == http.StatusConflict {
		v.Result.Answered = false // keep the form so the message is seen where the user looked
	}
	s.render(c, e.Status, v)
}

func (s *Server) notFoundPage(c *gin.Context) {
	v := s.view()
	v.NotFound = true
	s.render(c, http.StatusNotFound, v)
}
