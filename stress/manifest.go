package stress

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"bgwmodel/impl/cluster"
	"bgwmodel/internal/safefile"
)

// ManifestFile seals a finished run directory: it lists every file the
// campaign wrote as evidence, with its size and SHA-256, and is written
// last. A run directory without it did not finish (the campaign was
// killed, or hung); one whose files differ from it was cut or changed
// after the run. Either way [CheckDir] refuses it rather than judge part
// of the evidence.
const ManifestFile = "manifest.json"

// KeepFile marks a run directory that holds a violation: the campaign
// writes it (with the violation) as soon as it finds one, so that whoever
// cleans up, bgw, or the cluster's supervisor if the harness is killed
// ([Options.RemoveIfOrphaned]), never deletes the evidence. It is
// cluster.KeepFile.
const KeepFile = cluster.KeepFile

// manifestFormat is the version of [ManifestFile]'s layout.
const manifestFormat = 1

// manifest is ManifestFile.
type manifest struct {
	Format int            `json:"format"`
	Parts  []manifestPart `json:"parts"`
}

// manifestPart is one file of a sealed run directory; Path is relative to
// the directory, with forward slashes.
type manifestPart struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// requiredParts are the files every finished run directory has, besides
// at least one history file in [HistoryDir].
var requiredParts = []string{CampaignFile, RecordsFile, WaitsFile, FaultsFile, CutsFile, StopFile, PostmasterExitFile}

// SealRunDir writes dir's [ManifestFile]: every regular file under dir
// (but the manifest itself), with its size and SHA-256. [Run] calls it
// once every part of the evidence is written, before the checks; a tool
// that assembles a run directory by hand calls it when done. Anything
// but regular files and directories under dir is an error. It blocks
// while it reads the files.
func SealRunDir(dir string) error {
	var m manifest
	m.Format = manifestFormat
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if rel == ManifestFile {
			return nil
		}
		part, err := hashPart(p)
		if err != nil {
			return err
		}
		part.Path = filepath.ToSlash(rel)
		m.Parts = append(m.Parts, part)
		return nil
	})
	if err != nil {
		return fmt.Errorf("stress: seal %s: %w", dir, err)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, ManifestFile), append(b, '\n'), 0o600)
	}
	if err != nil {
		return fmt.Errorf("stress: seal %s: %w", dir, err)
	}
	return nil
}

// hashPart returns the size and SHA-256 of the regular file at path.
func hashPart(path string) (manifestPart, error) {
	f, err := safefile.Open(path)
	if err != nil {
		return manifestPart{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, safefile.Reader(f))
	if err != nil {
		return manifestPart{}, err
	}
	return manifestPart{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// ErrIncompleteRun is wrapped by [CheckDir]'s error for a run directory
// that lacks a part, lacks its manifest, or whose files differ from it.
var ErrIncompleteRun = errors.New("not a whole run directory")

// isRunDir reports whether dir looks like a campaign's run directory
// rather than a directory of history files: it holds one of the files only
// a campaign writes.
func isRunDir(dir string) bool {
	for _, name := range append([]string{ManifestFile, HistoryDir}, requiredParts...) {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			return true
		}
	}
	return false
}

// verifyRunDir checks that dir is a whole, sealed run directory: its
// manifest reads, every part it lists is a regular file of the size and
// hash written, every required part and a history file are listed, and
// no history file is there that the run did not write. Its errors wrap
// [ErrIncompleteRun] and name the part.
func verifyRunDir(dir string) error {
	data, err := safefile.ReadFile(filepath.Join(dir, ManifestFile))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("stress: %s: %w: no %s, so the run did not finish (it was killed, interrupted twice or hung) "+
			"and its files may be cut anywhere", dir, ErrIncompleteRun, ManifestFile)
	}
	if err != nil {
		return fmt.Errorf("stress: %w", err)
	}
	var m manifest
	if err := decodeStrict(data, &m); err != nil {
		return inFile(filepath.Join(dir, ManifestFile), data, err)
	}
	if m.Format != manifestFormat {
		return fmt.Errorf("stress: %s: format %d, want %d", filepath.Join(dir, ManifestFile), m.Format, manifestFormat)
	}
	listed := map[string]bool{}
	histories := 0
	for _, p := range m.Parts {
		if !fs.ValidPath(p.Path) {
			return fmt.Errorf("stress: %s: part %q: not a path inside the run directory", filepath.Join(dir, ManifestFile), p.Path)
		}
		listed[p.Path] = true
		if isHistoryPart(p.Path) {
			histories++
		}
		path := filepath.Join(dir, filepath.FromSlash(p.Path))
		got, err := hashPart(path)
		switch {
		case errors.Is(err, os.ErrNotExist):
			return fmt.Errorf("stress: %s: %w: the part %s is missing", dir, ErrIncompleteRun, p.Path)
		case err != nil:
			return fmt.Errorf("stress: %w: %w", ErrIncompleteRun, err)
		case got.Size != p.Size:
			return fmt.Errorf("stress: %s: %w: %d bytes, the run wrote %d: cut or changed after the run", path, ErrIncompleteRun, got.Size, p.Size)
		case got.SHA256 != p.SHA256:
			return fmt.Errorf("stress: %s: %w: its content differs from what the run wrote (SHA-256)", path, ErrIncompleteRun)
		}
	}
	for _, name := range requiredParts {
		if !listed[name] {
			return fmt.Errorf("stress: %s: %w: the part %s is missing (not in %s)", dir, ErrIncompleteRun, name, ManifestFile)
		}
	}
	if histories == 0 {
		return fmt.Errorf("stress: %s: %w: no history file", filepath.Join(dir, HistoryDir), ErrIncompleteRun)
	}
	entries, err := os.ReadDir(filepath.Join(dir, HistoryDir))
	if err != nil {
		return fmt.Errorf("stress: %w", err)
	}
	for _, e := range entries {
		if rel := HistoryDir + "/" + e.Name(); isHistoryPart(rel) && !listed[rel] {
			return fmt.Errorf("stress: %s: %w: not written by the run (not in %s)", filepath.Join(dir, HistoryDir, e.Name()),
				ErrIncompleteRun, ManifestFile)
		}
	}
	return nil
}

// isHistoryPart reports whether rel (slash-separated) is a history file of
// a run directory.
func isHistoryPart(rel string) bool {
	dir, name, ok := strings.Cut(rel, "/")
	return ok && dir == HistoryDir && !strings.Contains(name, "/") && strings.HasSuffix(name, ".jsonl")
}
