package ociimage

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// Stage is what an image needs from a Dockerfile's final stage.
type Stage struct {
	Copies     []Copy
	User       string
	Env        []string
	Expose     []string
	Volumes    []string
	Entrypoint []string
}

// Copy is one COPY --from=<build stage> of the final stage.
type Copy struct {
	Src, Dst string
	// Chown is the --chown value, "" for root.
	Chown string
}

// FinalStage reads the last stage of the Dockerfile at path. It refuses a
// Dockerfile with a single stage (the image is built in one stage and shipped
// in another) and a final-stage COPY that is not one file or directory from
// the build stage.
func FinalStage(path string) (Stage, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Stage{}, err
	}
	// Join continuation lines, drop comments.
	var lines []string
	var cur strings.Builder
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		if strings.HasSuffix(l, "\\") {
			cur.WriteString(strings.TrimSuffix(l, "\\") + " ")
			continue
		}
		cur.WriteString(l)
		if s := strings.TrimSpace(cur.String()); s != "" {
			lines = append(lines, s)
		}
		cur.Reset()
	}
	stages, last := 0, 0
	for i, l := range lines {
		if strings.HasPrefix(strings.ToUpper(l), "FROM ") {
			stages, last = stages+1, i
		}
	}
	if stages < 2 {
		return Stage{}, fmt.Errorf("%s has %d stages; it should build in one and ship in another", path, stages)
	}
	var st Stage
	for _, l := range lines[last+1:] {
		word, rest, _ := strings.Cut(l, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToUpper(word) {
		case "COPY":
			var c Copy
			from := false
			var args []string
			for _, a := range strings.Fields(rest) {
				switch {
				case strings.HasPrefix(a, "--from="):
					from = true
				case strings.HasPrefix(a, "--chown="):
					c.Chown = strings.TrimPrefix(a, "--chown=")
				default:
					args = append(args, a)
				}
			}
			if !from || len(args) != 2 {
				return Stage{}, fmt.Errorf("%s: final-stage COPY %q must copy one file from the build stage", path, rest)
			}
			c.Src, c.Dst = args[0], args[1]
			st.Copies = append(st.Copies, c)
		case "USER":
			st.User = rest
		case "ENV":
			st.Env = append(st.Env, strings.Fields(rest)...)
		case "EXPOSE":
			st.Expose = append(st.Expose, strings.Fields(rest)...)
		case "VOLUME":
			if err := json.Unmarshal([]byte(rest), &st.Volumes); err != nil {
				return Stage{}, fmt.Errorf("%s: VOLUME %s: %w", path, rest, err)
			}
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(rest), &st.Entrypoint); err != nil {
				return Stage{}, fmt.Errorf("%s: ENTRYPOINT must be exec form: %w", path, err)
			}
		}
	}
	return st, nil
}

// Image packs the stage: sources maps each COPY source to a local file (its
// content is copied) or directory (an empty directory is made, owned as
// --chown says). Like the distroless base, the image has a /tmp with mode 1777.
func (st Stage) Image(sources map[string]string) (*Image, error) {
	img := &Image{Config: Config{User: st.User, Env: st.Env, Entrypoint: st.Entrypoint, ExposedPorts: st.Expose, Volumes: st.Volumes}}
	img.AddDir("tmp", 0o777|fs.ModeSticky, 0, 0)
	for _, c := range st.Copies {
		src, ok := sources[c.Src]
		if !ok {
			return nil, fmt.Errorf("the Dockerfile copies %s, and no local file stands for it", c.Src)
		}
		uid, gid := 0, 0
		if c.Chown != "" {
			u, g, _ := strings.Cut(c.Chown, ":")
			var err error
			if uid, err = strconv.Atoi(u); err != nil {
				return nil, fmt.Errorf("COPY --chown=%s: want a numeric uid", c.Chown)
			}
			gid = uid
			if g != "" {
				if gid, err = strconv.Atoi(g); err != nil {
					return nil, fmt.Errorf("COPY --chown=%s: want a numeric gid", c.Chown)
				}
			}
		}
		fi, err := os.Stat(src)
		if err != nil {
			return nil, err
		}
		if fi.IsDir() {
			img.AddDir(c.Dst, 0o755, uid, gid)
			continue
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return nil, err
		}
		img.AddFile(c.Dst, data, fi.Mode().Perm(), uid, gid)
	}
	return img, nil
}
