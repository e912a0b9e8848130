// Package ociimage builds container images without a Docker engine: one
// layer of files packed by hand into an OCI image layout, or into the tar of
// one that `ctr images import` reads. Entries are sorted and dated at the
// epoch, so the same files give the same digests, and a built archive is
// cached by its content outside the repository.
//
// dockerfile.go reads the final stage of a Dockerfile (COPY --from, USER,
// ENV, EXPOSE, VOLUME, ENTRYPOINT) into an Image, so a test runs the image
// the Dockerfile describes; unpack.go extracts a layout into a root
// filesystem.
package ociimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// File is one entry of the image's layer.
type File struct {
	// Path inside the image, without a leading slash.
	Path     string
	Dir      bool
	Mode     fs.FileMode // permission bits, plus fs.ModeSticky
	UID, GID int
	Data     []byte
}

// Config is the image's runtime configuration.
type Config struct {
	User       string
	Env        []string
	Entrypoint []string
	Cmd        []string
	// ExposedPorts as in EXPOSE: "8080" or "8080/tcp".
	ExposedPorts []string
	Volumes      []string
}

// Image is a single-layer linux/amd64 image.
type Image struct {
	Files  []File
	Config Config
}

// AddFile adds a regular file whose parent directories are added as root's
// with mode 0755 unless already present.
func (img *Image) AddFile(path string, data []byte, mode fs.FileMode, uid, gid int) {
	img.addParents(path)
	img.Files = append(img.Files, File{Path: strings.Trim(path, "/"), Mode: mode, UID: uid, GID: gid, Data: data})
}

// AddDir adds a directory (and its parents).
func (img *Image) AddDir(path string, mode fs.FileMode, uid, gid int) {
	img.addParents(path)
	p := strings.Trim(path, "/")
	if !img.has(p) {
		img.Files = append(img.Files, File{Path: p, Dir: true, Mode: mode, UID: uid, GID: gid})
	}
}

func (img *Image) has(p string) bool {
	return slices.ContainsFunc(img.Files, func(f File) bool { return f.Path == p })
}

func (img *Image) addParents(path string) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i := 1; i < len(parts); i++ {
		if p := strings.Join(parts[:i], "/"); !img.has(p) {
			img.Files = append(img.Files, File{Path: p, Dir: true, Mode: 0o755})
		}
	}
}

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int               `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// blobs is the content of an image layout: blobs by digest, and the index.
type blobs struct {
	byDigest map[string][]byte
	index    []byte
}

func (b *blobs) add(mediaType string, data []byte) descriptor {
	sum := sha256.Sum256(data)
	d := "sha256:" + hex.EncodeToString(sum[:])
	b.byDigest[d] = data
	return descriptor{MediaType: mediaType, Digest: d, Size: len(data)}
}

// build packs the image and names it by refs, each a full reference
// ("ghcr.io/remla/tagger:1.0.0") or a bare tag.
func (img *Image) build(refs []string) (*blobs, error) {
	b := &blobs{byDigest: map[string][]byte{}}
	files := slices.Clone(img.Files)
	slices.SortStableFunc(files, func(x, y File) int { return strings.Compare(x.Path, y.Path) })
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	for _, f := range files {
		mode := int64(f.Mode.Perm())
		if f.Mode&fs.ModeSticky != 0 {
			mode |= 0o1000
		}
		h := &tar.Header{Name: f.Path, Mode: mode, Uid: f.UID, Gid: f.GID, ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
		if f.Dir {
			h.Typeflag, h.Name = tar.TypeDir, f.Path+"/"
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.Data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	diffID := sha256.Sum256(layer.Bytes())
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	zw.Write(layer.Bytes())
	if err := zw.Close(); err != nil {
		return nil, err
	}
	layerDesc := b.add("application/vnd.oci.image.layer.v1.tar+gzip", gz.Bytes())

	exposed := map[string]struct{}{}
	for _, p := range img.Config.ExposedPorts {
		if !strings.Contains(p, "/") {
			p += "/tcp"
		}
		exposed[p] = struct{}{}
	}
	volumes := map[string]struct{}{}
	for _, v := range img.Config.Volumes {
		volumes[v] = struct{}{}
	}
	config, err := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux", "created": "1970-01-01T00:00:00Z",
		"config": map[string]any{"User": img.Config.User, "Env": img.Config.Env, "Entrypoint": img.Config.Entrypoint,
			"Cmd": img.Config.Cmd, "ExposedPorts": exposed, "Volumes": volumes},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + hex.EncodeToString(diffID[:])}},
	})
	if err != nil {
		return nil, err
	}
	configDesc := b.add("application/vnd.oci.image.config.v1+json", config)
	manifest, err := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": configDesc, "layers": []descriptor{layerDesc},
	})
	if err != nil {
		return nil, err
	}
	manifestDesc := b.add("application/vnd.oci.image.manifest.v1+json", manifest)
	var entries []descriptor
	for _, ref := range refs {
		d := manifestDesc
		// containerd names an imported image after io.containerd.image.name;
		// OCI's ref.name holds the tag alone.
		tag := ref
		if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
			tag = ref[i+1:]
		}
		d.Annotations = map[string]string{"org.opencontainers.image.ref.name": tag}
		if tag != ref {
			d.Annotations["io.containerd.image.name"] = ref
		}
		entries = append(entries, d)
	}
	b.index, err = json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries,
	})
	return b, err
}

const layoutFile = `{"imageLayoutVersion":"1.0.0"}`

// WriteLayout writes the image as an OCI image layout in dir, named by refs.
func (img *Image) WriteLayout(dir string, refs ...string) error {
	b, err := img.build(refs)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		return err
	}
	for d, data := range b.byDigest {
		if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(d, "sha256:")), data, 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), b.index, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(layoutFile), 0o644)
}

// archive returns the tar of the image layout.
func (img *Image) archive(refs []string) ([]byte, error) {
	b, err := img.build(refs)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	add := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := add("oci-layout", []byte(layoutFile)); err != nil {
		return nil, err
	}
	if err := add("index.json", b.index); err != nil {
		return nil, err
	}
	for _, d := range slices.Sorted(func(yield func(string) bool) {
		for d := range b.byDigest {
			if !yield(d) {
				return
			}
		}
	}) {
		if err := add("blobs/sha256/"+strings.TrimPrefix(d, "sha256:"), b.byDigest[d]); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Archive returns the path of a tar of the image's layout (what `ctr images
// import` reads) named by refs, building it into cacheDir only when no
// archive of the same content and names is there yet.
func (img *Image) Archive(cacheDir string, refs ...string) (string, error) {
	key := sha256.New()
	for _, f := range img.Files {
		fmt.Fprintf(key, "%s %t %o %d %d %d\n", f.Path, f.Dir, f.Mode, f.UID, f.GID, len(f.Data))
		key.Write(f.Data)
	}
	cfg, _ := json.Marshal(img.Config)
	fmt.Fprintf(key, "%s\n%q\n", cfg, refs)
	path := filepath.Join(cacheDir, hex.EncodeToString(key.Sum(nil))[:32]+".tar")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	data, err := img.archive(refs)
	if err != nil {
		return "", fmt.Errorf("pack image %v: %w", refs, err)
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(cacheDir, ".image-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	return path, os.Rename(tmp.Name(), path)
}

// CacheDir is where built image archives are kept:
// ${XDG_CACHE_HOME:-~/.cache}/remla/images.
func CacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find the cache directory: %w", err)
	}
	return filepath.Join(base, "remla", "images"), nil
}
