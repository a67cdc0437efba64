// Package fake is a fake ApplicantStack server: the REST API of reference
// sections 2–6 (jobs, candidates, hires, signed attachment links), generated
// deterministically from a seed, with changes over time, reproducible
// faults, stage-change webhooks and a ground-truth Go API for tests. It is
// an independent implementation of the wire format (it does not import the
// client package), so that it catches client bugs rather than sharing them.
//
// # Use
//
//	s := fake.NewServer()                  // exported fields hold defaults
//	cfg := fake.NewTenant("acme")          // seed 1, 50 jobs, 5000 candidates
//	cfg.WebhookURL = receiver.URL
//	if err := s.AddTenant(cfg); err != nil { … }
//	srv := httptest.NewServer(s)           // or: base, err := s.Start("127.0.0.1:0")
//	defer s.Close()                        // after srv.Close(); waits for webhook goroutines
//
// Requests carry the header "Token: <cfg.Token>" (any case). A tenant is
// chosen by the host's first label when it names one
// ("acme.localhost:8089"), otherwise by the token. Wrong or missing token:
// 401 {"Method Result":"Failure","Error":"Invalid access token"}.
//
// # Routes
//
//	GET /api/jobs[/{page}]          {"Method Result":"Success","NumPages":N,"TotalCount":T,"Jobs":[…]}
//	GET /api/job/{a2…}              detail: list keys + Job Boards, Job Listing, Job Listing Html, Questionnaire Serials, Note
//	GET /api/candidates[/{page}]    array key "Candidates"
//	GET /api/candidate/{a4…}        detail: list keys + Cover Letter, Notes, Files, Questionnaires
//	PUT /api/candidate/{a4…}        {"Stage":"…"}, Publisher header required: a stage move by the publisher
//	GET /o/api/hires[/{page}]       array key "Hires"; no "… Timestamp" keys
//	GET /o/api/hire/{e2…}           detail: + Candidate Serial, Department, Questionnaires, Forms
//	PUT /o/api/hire/{e2…}           {"Stage":"New"|"In Progress"|"Complete"}
//	GET /x/attachment/{a6…}?apikey= file bytes, Content-Type and Content-Disposition; no token needed
//
// Lists hold PageSize (100) rows a page, oldest first (Create Date
// Timestamp ascending; generated and added records have strictly
// increasing creation times, so ties never occur). A page past NumPages
// has an empty array and the same NumPages; a non-numeric page is 400.
// Unknown serials are 404 {"Method Result":"Failure","Error":"Candidate not
// found"} ("Job not found", "Hire not found"). Repeated and trailing
// slashes are ignored. Tenants without Onboarding answer 404 on /o/api/*.
//
// Serials are 12 characters: a kind prefix (a1 user, a2 job, a4 candidate,
// a6 candidate file, a7 questionnaire, e2 hire, e4 hire form), the 5-character
// tenant code, and 5 characters that encode the record index through a
// keyed permutation. Display dates are "MM/DD/YYYY hh:mm AM" in the
// tenant's time zone, "… Timestamp" keys are epoch seconds of the same
// instant, date-only fields are "MM/DD/YYYY".
//
// # Data and scale
//
// Records are computed from (seed, index) when served: AddTenant costs
// O(jobs + candidates/40) and a tenant of 1,000,000 candidates takes a few
// hundred kilobytes. Only changes are stored: stage moves, added and
// deleted candidates, job edits, hire moves. Listing a page is O(page size
// + log deletions). Generated history ends at the fake clock's time when
// the tenant was added; the clock starts at Server.Epoch and moves only by
// Advance (or with the wall clock if Server.WallClock).
//
// Candidates are applications over the 18 months before that time. Stage
// history follows the tenant's pipeline (Pipeline); "Stage Type" is "" for
// active stages, "Hired", or "Do Not Pursue" for rejected and withdrawn
// candidates, who alone have a Disposition. Notes start with the System
// note "Application received from <Source>", then one "<user> set Stage to
// <stage>" per move with strictly increasing timestamps, some "set Rating
// to" and comment notes; text is entity-escaped (O&apos;Brien). About 4% of
// applications come from someone who applied before (same e-mail,
// sometimes with different letter case). Each run of 40 candidates has one
// hire linked through the hire's "Candidate Serial" and one hired candidate
// without a hire; some hires have no candidate ("Candidate Serial": "").
// Hires carry obviously fake SSNs (900-xx-xxxx), DOBs and W-4/I-9/direct
// deposit forms: HireTruth.Sensitive lists them.
//
// # Ground truth
//
// Candidate, Job and Hire return a record's list row and detail exactly
// as served (Detail of a candidate includes the signed links, computed for
// the base URL passed in and the fake clock's current time), the stage
// history and, for each file, its serial, name, size and sha256.
// FileContent returns a file's bytes. Serials lists the live serials of a
// list in list order. Faults never change the ground truth: Malformed
// lists which rows the current faults serve broken, by serial, page and
// position, so a test can match the rows its client quarantined.
//
// # Changes and faults
//
// MoveStage, MoveMany, MoveHireStage, AddCandidates, DeleteCandidate,
// EditJob and Advance change the data; SetFaults configures rate limiting
// (429 with Retry-After), 5xx answers, latency, truncated bodies, "Method
// Result": "Failure" on HTTP 200, malformed list rows, failing pages and
// early link expiry; Stats and ResetStats count requests per route kind
// (KindJobsList …) and answers by status.
//
// Each stage move POSTs a notification to the tenant's WebhookURL
// (reference §12.5) from a goroutine the Server owns, in order, retried on
// non-2xx up to WebhookRetries times; Faults can duplicate or reorder them.
// FlushWebhooks waits for delivery; WebhookBurst sends many at once.
//
// # Admin API
//
// The same operations are served under /_fake/ to loopback clients only
// (others get 403), without a token, as JSON:
//
//	GET    /_fake/clock                                  {"now": …}
//	POST   /_fake/clock                                  {"advance":"36h"}
//	GET    /_fake/tenants                                tenant configurations
//	POST   /_fake/tenants                                Tenant JSON (NewTenant defaults)
//	GET    /_fake/tenants/{sub}                          pipeline and counts
//	GET    /_fake/tenants/{sub}/serials/{list}           live serials (jobs, candidates, hires)
//	GET    /_fake/tenants/{sub}/malformed/{list}         rows the faults break
//	POST   /_fake/tenants/{sub}/candidates               {"count":N} → {"serials":[…]}
//	POST   /_fake/tenants/{sub}/candidates/moves         {"count":N,"from":P} → {"serials":[…]} (MoveMany)
//	GET    /_fake/tenants/{sub}/candidates/{serial}      CandidateTruth
//	DELETE /_fake/tenants/{sub}/candidates/{serial}
//	POST   /_fake/tenants/{sub}/candidates/{serial}/stage {"stage":"Interview"}
//	GET    /_fake/tenants/{sub}/jobs/{serial}            JobTruth
//	POST   /_fake/tenants/{sub}/jobs/{serial}            {"Salary Range":"…"} ({} edits the Note)
//	GET    /_fake/tenants/{sub}/hires/{serial}           HireTruth
//	POST   /_fake/tenants/{sub}/hires/{serial}/stage     {"stage":"Complete"}
//	GET    /_fake/tenants/{sub}/faults                   Faults JSON (durations as "250ms")
//	PUT    /_fake/tenants/{sub}/faults
//	GET    /_fake/tenants/{sub}/stats                    Stats
//	DELETE /_fake/tenants/{sub}/stats                    reset
//	POST   /_fake/tenants/{sub}/webhooks/burst           {"count":N,"concurrency":C}
//	POST   /_fake/webhooks/flush
package fake
