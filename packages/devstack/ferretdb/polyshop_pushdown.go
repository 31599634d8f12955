// Added to FerretDB's SQLite backend (package sqlite) by polyshop's devstack when it builds
// FerretDB for local runs and tests; see FERRETDB_PATCHES in packages/devstack/src/mongo.ts.

package sqlite

import (
	"fmt"
	"strings"

	"github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata"
	"github.com/FerretDB/FerretDB/internal/handler/sjson"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// maxPushdownIDs bounds the ids of one `$in` put into the SQL (SQLite's own limit is far higher).
const maxPushdownIDs = 1000

// idPushdown returns a WHERE clause on the indexed _id expression, and its arguments, for any
// filter that names `_id` by a string or ObjectID, or by `$in` of them, whatever else the filter
// holds. The handler applies the whole filter to every document the query returns, so narrowing
// by `_id` here only leaves out documents that could not match. Any other filter: no clause (all
// documents, as before).
func idPushdown(filter *types.Document) (string, []any) {
	if filter == nil {
		return "", nil
	}

	v, err := filter.Get("_id")
	if err != nil {
		return "", nil
	}

	switch v := v.(type) {
	case string, types.ObjectID:
		return fmt.Sprintf(` WHERE %s = ?`, metadata.IDColumn), []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}

	case *types.Document:
		if v.Len() != 1 {
			return "", nil
		}

		in, err := v.Get("$in")
		if err != nil {
			return "", nil
		}

		ids, ok := in.(*types.Array)
		if !ok || ids.Len() == 0 || ids.Len() > maxPushdownIDs {
			return "", nil
		}

		args := make([]any, 0, ids.Len())

		for i := 0; i < ids.Len(); i++ {
			id := must.NotFail(ids.Get(i))

			switch id.(type) {
			case string, types.ObjectID:
				args = append(args, string(must.NotFail(sjson.MarshalSingleValue(id))))
			default:
				return "", nil
			}
		}

		placeholders := strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ")

		return fmt.Sprintf(` WHERE %s IN (%s)`, metadata.IDColumn, placeholders), args
	}

	return "", nil
}
