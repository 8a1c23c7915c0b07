package workers_test

import (
	"fmt"
	"sort"
	"testing"

	cloudflare "github.com/cloudflare/cloudflare-go/v7"
	cfdurable "github.com/cloudflare/cloudflare-go/v7/durable_objects"
	cfworkers "github.com/cloudflare/cloudflare-go/v7/workers"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
)

func wDOListParams() cfdurable.NamespaceListParams {
	return cfdurable.NamespaceListParams{AccountID: cloudflare.F(edgetest.AccountID)}
}

func wSingleStep(m cfworkers.SingleStepMigrationParam) cfworkers.ScriptUpdateParamsMetadata {
	return cfworkers.ScriptUpdateParamsMetadata{Migrations: cloudflare.F[cfworkers.ScriptUpdateParamsMetadataMigrationsUnion](m)}
}

func wDOBinding(name, class string) cfworkers.ScriptUpdateParamsMetadataBindingUnion {
	return wBind("durable_object_namespace", name, func(b *cfworkers.ScriptUpdateParamsMetadataBinding) { b.ClassName = cloudflare.F(class) })
}

// namespacesByClass lists every namespace through the SDK's auto-pager.
func (e *env) namespacesByClass(perPage int64) map[string]cfdurable.Namespace {
	e.T.Helper()
	params := wDOListParams()
	params.PerPage = cloudflare.F(perPage)
	pager := e.durable.Namespaces.ListAutoPaging(e.ctx, params)
	out := map[string]cfdurable.Namespace{}
	for pager.Next() {
		ns := pager.Current()
		out[ns.Script+"/"+ns.Class] = ns
	}
	if err := pager.Err(); err != nil {
		e.T.Fatal(err)
	}
	return out
}

func TestWorkersDurableObjectMigrations(t *testing.T) {
	e := newEnv(t)
	res := e.mustUpload("counter", wWithBindings(wSingleStep(cfworkers.SingleStepMigrationParam{
		NewTag: cloudflare.F("v1"), NewSqliteClasses: cloudflare.F([]string{"Counter"}), NewClasses: cloudflare.F([]string{"Legacy"}),
	}), wDOBinding("COUNTER", "Counter")))
	if res.MigrationTag != "v1" || len(res.NamedHandlers) != 2 {
		t.Fatalf("script = %+v", res)
	}
	nss := e.namespacesByClass(20)
	c, l := nss["counter/Counter"], nss["counter/Legacy"]
	if !hexID.MatchString(c.ID) || c.Name != "counter_Counter" || !c.UseSqlite || l.UseSqlite || len(nss) != 2 {
		t.Fatalf("namespaces = %+v", nss)
	}

	// The precondition: old_tag must be the current tag.
	_, err := e.upload("counter", wSingleStep(cfworkers.SingleStepMigrationParam{NewTag: cloudflare.F("v2"), NewSqliteClasses: cloudflare.F([]string{"X"})}))
	cfErr := edgetest.WantAPIError(t, err, 400, 10079)
	if cfErr.Errors[0].Message != "Migration tag precondition failed; current tag is 'v1'" {
		t.Fatalf("message = %q", cfErr.Errors[0].Message)
	}
	_, err = e.upload("counter", wSingleStep(cfworkers.SingleStepMigrationParam{OldTag: cloudflare.F("v0"), NewTag: cloudflare.F("v2")}))
	edgetest.WantAPIError(t, err, 400, 10079)
	// Creating an existing class again.
	_, err = e.upload("counter", wSingleStep(cfworkers.SingleStepMigrationParam{OldTag: cloudflare.F("v1"), NewTag: cloudflare.F("v2"), NewSqliteClasses: cloudflare.F([]string{"Counter"})}))
	edgetest.WantAPIError(t, err, 400, 10074)
	// Deleting a class that is still bound fails, atomically: nothing changes.
	_, err = e.upload("counter", wWithBindings(wSingleStep(cfworkers.SingleStepMigrationParam{OldTag: cloudflare.F("v1"), NewTag: cloudflare.F("v2"), DeletedClasses: cloudflare.F([]string{"Counter"})}), wDOBinding("COUNTER", "Counter")))
	edgetest.WantAPIError(t, err, 400, 10061)
	if got := e.namespacesByClass(1); len(got) != 2 {
		t.Fatalf("failed upload changed namespaces: %v", got)
	}

	// Multi-step (what wrangler sends): rename keeps the id, delete removes.
	multi := cfworkers.ScriptUpdateParamsMetadata{Migrations: cloudflare.F[cfworkers.ScriptUpdateParamsMetadataMigrationsUnion](cfworkers.ScriptUpdateParamsMetadataMigrationsWorkersMultipleStepMigrations{
		OldTag: cloudflare.F("v1"), NewTag: cloudflare.F("v3"),
		Steps: cloudflare.F([]cfworkers.MigrationStepParam{
			{RenamedClasses: cloudflare.F([]cfworkers.MigrationStepRenamedClassParam{{From: cloudflare.F("Counter"), To: cloudflare.F("Tally")}})},
			{DeletedClasses: cloudflare.F([]string{"Legacy"})},
		}),
	})}
	res = e.mustUpload("counter", wWithBindings(multi, wDOBinding("TALLY", "Tally")))
	if res.MigrationTag != "v3" {
		t.Fatalf("migration tag = %q", res.MigrationTag)
	}
	nss = e.namespacesByClass(1)
	if tally := nss["counter/Tally"]; tally.ID != c.ID || tally.Name != "counter_Tally" || len(nss) != 1 {
		t.Fatalf("after rename = %+v", nss)
	}
	// An upload without migrations keeps the tag.
	if res := e.mustUpload("counter", wWithBindings(cfworkers.ScriptUpdateParamsMetadata{}, wDOBinding("TALLY", "Tally"))); res.MigrationTag != "v3" {
		t.Fatalf("tag lost: %q", res.MigrationTag)
	}

	// Transfer to another script; external bindings name script_name.
	e.mustUpload("heir", wSingleStep(cfworkers.SingleStepMigrationParam{
		NewTag: cloudflare.F("h1"),
		TransferredClasses: cloudflare.F([]cfworkers.SingleStepMigrationTransferredClassParam{{
			From: cloudflare.F("Tally"), FromScript: cloudflare.F("counter"), To: cloudflare.F("Tally"),
		}}),
	}))
	nss = e.namespacesByClass(1)
	if h := nss["heir/Tally"]; h.ID != c.ID || h.Name != "heir_Tally" || len(nss) != 1 {
		t.Fatalf("after transfer = %+v", nss)
	}
	e.mustUpload("user", wWithBindings(cfworkers.ScriptUpdateParamsMetadata{},
		wBind("durable_object_namespace", "EXT", func(b *cfworkers.ScriptUpdateParamsMetadataBinding) {
			b.ClassName = cloudflare.F("Tally")
			b.ScriptName = cloudflare.F("heir")
		})))
	_, err = e.upload("user2", wWithBindings(cfworkers.ScriptUpdateParamsMetadata{},
		wBind("durable_object_namespace", "EXT", func(b *cfworkers.ScriptUpdateParamsMetadataBinding) {
			b.ClassName = cloudflare.F("Tally")
			b.ScriptName = cloudflare.F("counter")
		})))
	edgetest.WantAPIError(t, err, 400, 10061)

	// Objects: the API side sees none; unknown namespaces are 404.
	objs, err := e.durable.Namespaces.Objects.List(e.ctx, c.ID, cfdurable.NamespaceObjectListParams{AccountID: cloudflare.F(edgetest.AccountID)})
	if err != nil || len(objs.Result) != 0 {
		t.Fatalf("objects = %+v, %v", objs, err)
	}
	pager := e.durable.Namespaces.Objects.ListAutoPaging(e.ctx, c.ID, cfdurable.NamespaceObjectListParams{AccountID: cloudflare.F(edgetest.AccountID)})
	for pager.Next() {
		t.Fatal("unexpected object")
	}
	if err := pager.Err(); err != nil {
		t.Fatal(err)
	}
	_, err = e.durable.Namespaces.Objects.List(e.ctx, "ffffffffffffffffffffffffffffffff", cfdurable.NamespaceObjectListParams{AccountID: cloudflare.F(edgetest.AccountID)})
	edgetest.WantAPIError(t, err, 404, 10007)
}

func TestWorkersDurableObjectNamespacePagination(t *testing.T) {
	e := newEnv(t)
	var classes []string
	for i := 0; i < 7; i++ {
		classes = append(classes, fmt.Sprintf("C%d", i))
	}
	e.mustUpload("many", wSingleStep(cfworkers.SingleStepMigrationParam{NewTag: cloudflare.F("v1"), NewSqliteClasses: cloudflare.F(classes)}))
	for _, perPage := range []int64{1, 3, 7, 100} {
		if got := e.namespacesByClass(perPage); len(got) != 7 {
			t.Fatalf("per_page %d: %d namespaces", perPage, len(got))
		}
	}
	params := wDOListParams()
	params.Page, params.PerPage = cloudflare.F(int64(3)), cloudflare.F(int64(3))
	page, err := e.durable.Namespaces.List(e.ctx, params)
	if err != nil || len(page.Result) != 1 || page.Result[0].Class != "C6" {
		t.Fatalf("page 3 = %+v, %v", page.Result, err)
	}
	params.Page = cloudflare.F(int64(4))
	page, err = e.durable.Namespaces.List(e.ctx, params)
	if err != nil || page.Result == nil || len(page.Result) != 0 {
		t.Fatalf("past the end = %+v, %v", page, err)
	}
	params.PerPage = cloudflare.F(int64(0))
	_, err = e.durable.Namespaces.List(e.ctx, params)
	if err == nil {
		t.Fatal("per_page 0 accepted")
	}
	var names []string
	for _, ns := range e.namespacesByClass(2) {
		names = append(names, ns.Name)
	}
	sort.Strings(names)
	if names[0] != "many_C0" {
		t.Fatalf("names = %v", names)
	}
}
