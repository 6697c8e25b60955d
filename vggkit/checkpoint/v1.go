package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/gomlx/gomlx/ml/model"
)

// ReadV1 reads a checkpoint of format v1 (a directory holding File, or the file): it restores
// its variables into store like Load does (shapes checked, missing variables created, NaN and
// Inf refused, the store unchanged on error) and returns the header's JSON object minus "vars",
// that is the v1 metadata fields, for the caller to convert. v1 has no checksums: only the
// sizes and the layout are checked.
func ReadV1(path string, store *model.Store) (json.RawMessage, error) {
	f, size, file, err := open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readV1(f, size, file, store)
}

func readV1(r io.ReaderAt, size int64, file string, store *model.Store) (json.RawMessage, error) {
	version, err := readMagic(r, file)
	if err != nil {
		return nil, err
	}
	if version != 1 {
		return nil, fmt.Errorf("checkpoint %s: format v%d, not v1: read it with Load", file, version)
	}
	hdr, err := readHeaderBytes(r, size, file, 0)
	if err != nil {
		return nil, err
	}
	meta, vars, err := splitV1(hdr)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: header: %w", file, err)
	}
	dataStart := prefixLen + int64(len(hdr))
	if err := checkVars(vars, size-dataStart, false, file); err != nil {
		return nil, err
	}
	if err := restore(r, dataStart, vars, false, file, store); err != nil {
		return nil, err
	}
	return meta, nil
}

// splitV1 splits a v1 header into its metadata fields (a JSON object) and its variables.
func splitV1(hdr []byte) (json.RawMessage, []varEntry, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &fields); err != nil {
		return nil, nil, err
	}
	raw, ok := fields["vars"]
	if !ok {
		return nil, nil, errors.New(`no "vars"`)
	}
	var vars []varEntry
	if err := decodeStrict(raw, &vars); err != nil {
		return nil, nil, fmt.Errorf("vars: %w", err)
	}
	delete(fields, "vars")
	meta, err := json.Marshal(fields)
	return meta, vars, err
}
