#!/usr/bin/env python3
"""Check the default reference data set against the official source files.

Standard library only. Usage:
    python3 verify.py [--data-dir /work/shared/data] [--gen-claims /work/shared/tools/gen_claims.py]

Exit status 0 when every check passes, 1 otherwise.
"""
import argparse
import csv
import gzip
import importlib.util
import io
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

HEADERS = {
    "procedures.csv": ["code", "description", "service_type", "lesion_behavior", "site_family", "size_measure",
                       "size_lower_exclusive_cm", "size_upper_inclusive_cm", "typical_pos", "status", "pctc",
                       "global_days", "mult_proc", "bilat", "asst", "co_surg", "team_surg"],
    "site_families.csv": ["site_family", "display", "anatomic_sites"],
    "modifiers.csv": ["modifier", "level", "description", "when_to_use"],
    "payers.csv": ["payer_id", "name", "payer_type", "notes"],
    "pos.csv": ["code", "name", "description"],
    "taxonomies.csv": ["code", "label", "classification", "specialization", "note"],
    "icd10cm.csv": ["code", "title", "billable"],
    "profile_links.csv": ["procedure_scope", "kind", "target", "relevance", "note"],
    "coverage_policies.csv": ["policy", "service_type", "lesion_behavior", "diagnosis_prefix", "evidence", "note"],
    "implausible_specialties.csv": ["service_type", "taxonomy_prefix", "classification", "note"],
    "x12_status_codes.csv": ["rule_id", "category", "status_code", "entity_code", "meaning"],
    "x12_payers.csv": ["x12_payer_id", "payer_id"],
}
FAMILY_SCOPES = {
    "excision_benign_trunk_arms_legs", "excision_benign_scalp_neck_hands_feet_genitalia", "excision_benign_face",
    "excision_malignant_trunk_arms_legs", "excision_malignant_scalp_neck_hands_feet_genitalia",
    "excision_malignant_face", "repair_simple", "repair_intermediate", "surgical_pathology",
    "evaluation_management",
}
SITES = {"trunk", "arm", "leg", "scalp", "neck", "hand", "foot", "genitalia", "face", "ear", "eyelid", "nose",
         "lip", "axilla", "mucous_membrane"}
SERVICE_TYPES = {"excision", "simple_repair", "intermediate_repair", "wound_dehiscence_repair",
                 "surgical_pathology", "evaluation_management"}
RELEVANCE = {
    "diagnosis": {"primary", "supporting", "questionable", "not_billable_header"},
    "taxonomy": {"primary", "supporting", "questionable"},
    "modifier": {"allowed", "not_allowed", "informational"},
    "payer": {"informational"},
}
REQUIRED_MODS = set("22 24 25 26 50 51 52 53 57 58 59 76 77 78 79 80 81 82 95".split()) | \
    set("AS LT RT TC XE XP XS XU GA GY GZ".split())
REQUIRED_PAYERS = {"MEDICARE", "AETNA", "BCBS", "CIGNA", "UHC"}
REQUIRED_TAX = set("207N00000X 208600000X 208200000X 2086S0122X 207Q00000X 2086X0206X 207NS0135X 207ND0101X "
                   "207ND0900X 207ZD0900X 207ZP0102X 207ZP0101X 207R00000X 208D00000X 363L00000X 363LF0000X "
                   "363A00000X 207P00000X".split())
# our site-family ids vs the ids used by shared/tools/gen_claims.py SITE_GROUPS
GEN_ALIAS = {
    "trunk_arms_legs": "trunk_arms_legs",
    "scalp_neck_hands_feet_genitalia": "scalp_neck_hands_feet_genitalia",
    "face_ears_eyelids_nose_lips_mucous_membrane": "face_ears_eyelids_nose_lips_mucosa",
    "scalp_neck_axillae_genitalia_trunk_extremities": "scalp_neck_axillae_genitalia_trunk_limbs",
    "scalp_axillae_trunk_extremities": "scalp_axillae_trunk_limbs",
    "neck_hands_feet_genitalia": "neck_hands_feet_genitalia",
}


class Checker:
    def __init__(self):
        self.results = []

    def check(self, name, problems):
        problems = list(problems)
        self.results.append((name, problems))
        status = "ok" if not problems else "FAIL (%d)" % len(problems)
        print("%-72s %s" % (name, status))
        for p in problems[:10]:
            print("    - " + p)
        if len(problems) > 10:
            print("    ... %d more" % (len(problems) - 10))


def read_csv(name):
    path = os.path.join(HERE, name)
    raw = open(path, "rb").read()
    text = raw.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return raw, rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default=os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data")))
    ap.add_argument("--gen-claims", default=os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "tools",
                                                                          "gen_claims.py")))
    a = ap.parse_args()
    d = a.data_dir
    c = Checker()

    # ------------------------------------------------------------ file format
    tables, fmt = {}, []
    for name, hdr in HEADERS.items():
        raw, rows = read_csv(name)
        if b"\r" in raw:
            fmt.append("%s: contains CR characters (LF only expected)" % name)
        if raw.startswith(b"\xef\xbb\xbf"):
            fmt.append("%s: has a BOM" % name)
        if not raw.endswith(b"\n"):
            fmt.append("%s: no final newline" % name)
        for i, line in enumerate(raw.decode("utf-8").split("\n"), 1):
            if line != line.rstrip(" \t"):
                fmt.append("%s line %d: trailing whitespace" % (name, i))
        if rows[0] != hdr:
            fmt.append("%s: header %s != %s" % (name, rows[0], hdr))
        for i, r in enumerate(rows[1:], 2):
            if len(r) != len(hdr):
                fmt.append("%s line %d: %d fields" % (name, i, len(r)))
            for v in r:
                if v != v.strip():
                    fmt.append("%s line %d: value with surrounding spaces %r" % (name, i, v))
        tables[name] = [dict(zip(hdr, r)) for r in rows[1:]]
    c.check("format: UTF-8, LF, headers, field counts, no trailing spaces", fmt)
    T = tables

    # ------------------------------------------------------------ sources
    icd = {}
    with gzip.open(os.path.join(d, "icd10cm", "icd10cm-codes-April-1-2026.derived.tsv.gz"), "rt",
                   encoding="utf-8") as f:
        next(f)
        for line in f:
            _, code, billable, desc, _ = line.rstrip("\n").split("\t")
            icd[code] = (billable, desc)
    with open(os.path.join(d, "nucc", "nucc_taxonomy_251.csv"), encoding="utf-8", newline="") as f:
        nucc = {r["Code"]: r for r in csv.DictReader(f)}
    mpfs_rows = list(csv.reader(io.TextIOWrapper(gzip.open(os.path.join(d, "mpfs", "PPRRVU23_JAN.csv.gz")),
                                                 encoding="latin-1", newline="")))[9:]
    mpfs = {r[0]: r for r in mpfs_rows if r[1] == ""}
    with open(os.path.join(d, "pos", "pos_codes.csv"), encoding="utf-8", newline="") as f:
        pos_src = [[r["code"], r["name"], r["description"]] for r in csv.DictReader(f)]

    # ------------------------------------------------------------ ICD-10-CM
    probs = []
    icd_tab = {}
    for r in T["icd10cm.csv"]:
        code = r["code"]
        if code in icd_tab:
            probs.append("duplicate " + code)
        icd_tab[code] = r
        if code != code.upper() or "." in code:
            probs.append("%s: not dotless uppercase" % code)
        if code not in icd:
            probs.append("%s: not in FY2026 table" % code)
            continue
        if r["billable"] != icd[code][0]:
            probs.append("%s: billable %s, FY2026 says %s" % (code, r["billable"], icd[code][0]))
        if r["title"] != icd[code][1]:
            probs.append("%s: title differs from FY2026 (%r)" % (code, icd[code][1]))
    c.check("icd10cm.csv: %d codes exist in FY2026 with the same billable flag and title" % len(icd_tab), probs)

    probs = []
    dx_targets = set()
    for r in T["profile_links.csv"]:
        if r["kind"] != "diagnosis":
            continue
        code = r["target"]
        dx_targets.add(code)
        if code not in icd:
            probs.append("%s: not in FY2026 table" % code)
            continue
        if code not in icd_tab:
            probs.append("%s: missing from icd10cm.csv" % code)
        header = r["relevance"] == "not_billable_header"
        if header != (icd[code][0] == "0"):
            probs.append("%s (%s): relevance %s but FY2026 billable=%s" % (code, r["procedure_scope"], r["relevance"],
                                                                         icd[code][0]))
    # Codes the coverage policies name (their prefixes and the headers above them).
    prefixes = [r["diagnosis_prefix"] for r in T["coverage_policies.csv"]]
    extra = {x for x in set(icd_tab) - dx_targets
             if not any(x.startswith(p) or p.startswith(x) for p in prefixes)}
    probs += ["%s: in icd10cm.csv but referenced by no profile link" % x for x in sorted(extra)]
    c.check("profile_links diagnoses: exist in FY2026; header rows exactly the non-billable codes", probs)

    probs = []
    for r in T["coverage_policies.csv"]:
        p = r["diagnosis_prefix"]
        if not any(code.startswith(p) for code in icd):
            probs.append("%s: no FY2026 code starts with it" % p)
        if r["evidence"] not in ("indication", "cosmetic"):
            probs.append("%s: evidence %r" % (p, r["evidence"]))
        if r["service_type"] not in SERVICE_TYPES:
            probs.append("%s: service type %r" % (p, r["service_type"]))
    c.check("coverage_policies: %d prefixes name FY2026 codes" % len(T["coverage_policies.csv"]), probs)

    probs = []
    for r in T["implausible_specialties.csv"]:
        p = r["taxonomy_prefix"]
        groups = {n["Classification"] for code, n in nucc.items() if code.startswith(p)}
        if not groups:
            probs.append("%s: no NUCC code starts with it" % p)
        if r["service_type"] not in SERVICE_TYPES:
            probs.append("%s: service type %r" % (p, r["service_type"]))
    c.check("implausible_specialties: %d prefixes name NUCC codes" % len(T["implausible_specialties.csv"]), probs)

    # ------------------------------------------------------------ taxonomy
    probs = []
    tax_tab = {r["code"]: r for r in T["taxonomies.csv"]}
    for code, r in tax_tab.items():
        n = nucc.get(code)
        if not n:
            probs.append("%s: not in NUCC 25.1" % code)
            continue
        if r["classification"] != n["Classification"] or r["specialization"] != n["Specialization"]:
            probs.append("%s: %s/%s vs NUCC %s/%s" % (code, r["classification"], r["specialization"],
                                                     n["Classification"], n["Specialization"]))
        for field in ("Definition", "Notes"):
            src = n[field].strip()
            if src and (src in r["note"] or src in r["label"]):
                probs.append("%s: NUCC %s text copied" % (code, field))
    if set(tax_tab) != REQUIRED_TAX:
        probs.append("taxonomy set differs: missing %s extra %s" % (sorted(REQUIRED_TAX - set(tax_tab)),
                                                                   sorted(set(tax_tab) - REQUIRED_TAX)))
    for r in T["profile_links.csv"]:
        if r["kind"] == "taxonomy" and r["target"] not in tax_tab:
            probs.append("profile link taxonomy %s not in taxonomies.csv" % r["target"])
    c.check("taxonomies: %d codes in NUCC 25.1 with the same classification/specialization" % len(tax_tab), probs)

    # ------------------------------------------------------------ procedures vs MPFS
    probs = []
    procs = {r["code"]: r for r in T["procedures.csv"]}

    def in_scope(code):
        if not code.isdigit():
            return False
        n = int(code)
        return (11400 <= n <= 11406 or 11420 <= n <= 11426 or 11440 <= n <= 11446 or 11600 <= n <= 11606
                or 11620 <= n <= 11626 or 11640 <= n <= 11646 or 12001 <= n <= 12057 or n == 88305
                or 99202 <= n <= 99205 or 99211 <= n <= 99215)
    want = {code for code in mpfs if in_scope(code)}
    if set(procs) != want:
        probs.append("code set differs from MPFS: missing %s extra %s" % (sorted(want - set(procs)),
                                                                         sorted(set(procs) - want)))
    cols = [("status", 3), ("pctc", 13), ("global_days", 14), ("mult_proc", 18), ("bilat", 19), ("asst", 20),
            ("co_surg", 21), ("team_surg", 22)]
    for code, r in procs.items():
        m = mpfs.get(code)
        if not m:
            continue
        for col, i in cols:
            if r[col] != m[i]:
                probs.append("%s %s: %s, PPRRVU23 %s" % (code, col, r[col], m[i]))
        mdesc = m[2].strip().lower()
        if mdesc and mdesc in r["description"].lower():
            probs.append("%s: description contains the MPFS descriptor" % code)
    c.check("procedures: %d codes = MPFS rows in scope; 8 indicators equal PPRRVU23 global rows" % len(procs), probs)

    probs = []
    seed_path = os.path.join(d, "cpt", "seed_cpt_codes.csv")
    if os.path.exists(seed_path):
        with open(seed_path, encoding="utf-8", newline="") as f:
            seed = {r["code"]: r["description"] for r in csv.DictReader(f)}
        for code, r in procs.items():
            if seed.get(code, "").lower() == r["description"].lower():
                probs.append("%s: description identical to seed_cpt_codes.csv" % code)
    c.check("procedures: descriptions differ from seed_cpt_codes.csv wording", probs)

    # ------------------------------------------------------------ attribute vocabulary and bands
    probs = []
    fams = {r["site_family"]: r for r in T["site_families.csv"]}
    pos_codes = {p[0] for p in pos_src}
    for code, r in procs.items():
        st = r["service_type"]
        if st not in SERVICE_TYPES:
            probs.append("%s: service_type %s" % (code, st))
        if (st == "excision") != (r["lesion_behavior"] in ("benign", "malignant")) or \
                (st != "excision" and r["lesion_behavior"]):
            probs.append("%s: lesion_behavior %r with %s" % (code, r["lesion_behavior"], st))
        needs_site = st in ("excision", "simple_repair", "intermediate_repair")
        if needs_site and r["site_family"] not in fams:
            probs.append("%s: site_family %r unknown" % (code, r["site_family"]))
        if not needs_site and r["site_family"]:
            probs.append("%s: unexpected site_family" % code)
        exp_measure = {"excision": "excised_diameter_cm", "simple_repair": "repair_length_cm",
                       "intermediate_repair": "repair_length_cm"}.get(st, "")
        if r["size_measure"] != exp_measure:
            probs.append("%s: size_measure %r" % (code, r["size_measure"]))
        if not exp_measure and (r["size_lower_exclusive_cm"] or r["size_upper_inclusive_cm"]):
            probs.append("%s: size band on a service without one" % code)
        for p in r["typical_pos"].split(";"):
            if p not in pos_codes:
                probs.append("%s: typical_pos %s not a CMS POS code" % (code, p))
        if st == "excision" and code[:3] != {"benign": "114", "malignant": "116"}[r["lesion_behavior"]]:
            probs.append("%s: behaviour does not match 114xx/116xx" % code)
    c.check("procedures: service types, behaviour, site families, size measures, POS codes", probs)

    probs = []
    groups = {}
    for code, r in sorted(procs.items()):
        if r["size_measure"]:
            groups.setdefault((r["service_type"], r["lesion_behavior"], r["site_family"]), []).append(r)
    for key, rows in groups.items():
        if rows[0]["size_lower_exclusive_cm"] != "0.0":
            probs.append("%s: first band does not start at 0.0" % (key,))
        for a_, b_ in zip(rows, rows[1:]):
            if a_["size_upper_inclusive_cm"] == "" or float(a_["size_upper_inclusive_cm"]) != \
                    float(b_["size_lower_exclusive_cm"]):
                probs.append("%s: %s upper %r != %s lower %r" % (key, a_["code"], a_["size_upper_inclusive_cm"],
                                                                b_["code"], b_["size_lower_exclusive_cm"]))
        for r in rows:
            lo, hi = r["size_lower_exclusive_cm"], r["size_upper_inclusive_cm"]
            if hi and float(hi) <= float(lo):
                probs.append("%s: empty band (%s, %s]" % (r["code"], lo, hi))
        if rows[-1]["size_upper_inclusive_cm"] != "":
            probs.append("%s: last band %s is not open-ended" % (key, rows[-1]["code"]))
    c.check("size bands: contiguous (upper of n = lower of n+1) in %d families, 0.0 start, open end" % len(groups),
            probs)

    # ------------------------------------------------------------ site families vs gen_claims
    probs = []
    for fid, r in fams.items():
        sites = r["anatomic_sites"].split(";")
        bad = [s for s in sites if s not in SITES]
        if bad:
            probs.append("%s: unknown sites %s" % (fid, bad))
    used = {r["site_family"] for r in procs.values() if r["site_family"]}
    if used != set(fams):
        probs.append("site_families.csv ids %s vs used %s" % (sorted(fams), sorted(used)))
    if os.path.exists(a.gen_claims):
        spec = importlib.util.spec_from_file_location("gen_claims", a.gen_claims)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for fid, alias in GEN_ALIAS.items():
            ours = set(fams[fid]["anatomic_sites"].split(";"))
            theirs = set(mod.SITE_GROUPS[alias])
            if ours != theirs:
                probs.append("%s: %s vs gen_claims %s %s" % (fid, sorted(ours), alias, sorted(theirs)))
    else:
        probs.append("gen_claims.py not found at " + a.gen_claims)
    c.check("site families: vocabulary, ids used, sites equal gen_claims.py SITE_GROUPS", probs)

    # ------------------------------------------------------------ profile links
    probs = []
    mods = {r["modifier"]: r for r in T["modifiers.csv"]}
    payers = {r["payer_id"] for r in T["payers.csv"]}
    seen = set()
    for r in T["profile_links.csv"]:
        s = r["procedure_scope"]
        if s not in FAMILY_SCOPES and s not in procs:
            probs.append("scope %s is neither a family id nor a procedures.csv code" % s)
        if r["kind"] not in RELEVANCE:
            probs.append("kind %s" % r["kind"])
            continue
        if r["relevance"] not in RELEVANCE[r["kind"]]:
            probs.append("%s/%s/%s: relevance %s" % (s, r["kind"], r["target"], r["relevance"]))
        if r["kind"] == "modifier" and r["target"] not in mods:
            probs.append("modifier %s not in modifiers.csv" % r["target"])
        if r["kind"] == "payer" and r["target"] not in payers:
            probs.append("payer %s not in payers.csv" % r["target"])
        if not r["note"]:
            probs.append("%s/%s/%s: empty note" % (s, r["kind"], r["target"]))
        k = (s, r["kind"], r["target"])
        if k in seen:
            probs.append("duplicate %s" % (k,))
        seen.add(k)
    scopes = {r["procedure_scope"] for r in T["profile_links.csv"]}
    probs += ["family %s has no rows" % f for f in sorted(FAMILY_SCOPES - scopes)]
    c.check("profile_links: %d rows; scopes, kinds, relevance, targets resolve, no duplicates"
            % len(T["profile_links.csv"]), probs)

    # modifier rows agree with the MPFS indicators of every code in the scope
    probs = []
    scope_codes = {}
    for code, r in procs.items():
        st, beh, fam = r["service_type"], r["lesion_behavior"], r["site_family"]
        if st == "excision":
            short = {"trunk_arms_legs": "trunk_arms_legs",
                     "scalp_neck_hands_feet_genitalia": "scalp_neck_hands_feet_genitalia",
                     "face_ears_eyelids_nose_lips_mucous_membrane": "face"}[fam]
            scope_codes.setdefault("excision_%s_%s" % (beh, short), []).append(code)
        elif st == "simple_repair":
            scope_codes.setdefault("repair_simple", []).append(code)
        elif st == "intermediate_repair":
            scope_codes.setdefault("repair_intermediate", []).append(code)
        elif st == "surgical_pathology":
            scope_codes.setdefault("surgical_pathology", []).append(code)
        elif st == "evaluation_management":
            scope_codes.setdefault("evaluation_management", []).append(code)
    rel = {(r["procedure_scope"], r["target"]): r["relevance"] for r in T["profile_links.csv"]
           if r["kind"] == "modifier"}

    def effective(code, scope, m):
        return rel.get((code, m), rel.get((scope, m)))
    for scope, codes in scope_codes.items():
        for code in codes:
            r = procs[code]
            for m in ("26", "TC"):
                e = effective(code, scope, m)
                want_rel = "allowed" if r["pctc"] == "1" else "not_allowed"
                if e is not None and e != want_rel:
                    probs.append("%s %s: %s but PC/TC %s" % (code, m, e, r["pctc"]))
            e = effective(code, scope, "50")
            if r["bilat"] == "0" and e not in (None, "not_allowed"):
                probs.append("%s 50: %s but bilateral 0" % (code, e))
            for m in ("80", "81", "82", "AS"):
                e = effective(code, scope, m)
                if r["asst"] == "1" and e not in (None, "not_allowed"):
                    probs.append("%s %s: %s but assistant indicator 1" % (code, m, e))
                if r["asst"] == "2" and e != "allowed":
                    probs.append("%s %s: %s but assistant indicator 2" % (code, m, e))
            if r["service_type"] != "evaluation_management":
                for m in ("25", "57"):
                    if effective(code, scope, m) not in (None, "not_allowed"):
                        probs.append("%s %s: E/M-only modifier allowed on a procedure" % (code, m))
    c.check("profile_links modifiers: 26/TC, 50, 80/81/82/AS, 25/57 agree with each code's indicators", probs)

    # ------------------------------------------------------------ modifiers, payers, POS
    probs = []
    if set(mods) != REQUIRED_MODS:
        probs.append("modifier set: missing %s extra %s" % (sorted(REQUIRED_MODS - set(mods)),
                                                           sorted(set(mods) - REQUIRED_MODS)))
    for m, r in mods.items():
        want_level = "cpt" if m.isdigit() else "hcpcs"
        if r["level"] != want_level:
            probs.append("%s: level %s" % (m, r["level"]))
    if payers != REQUIRED_PAYERS:
        probs.append("payer set %s" % sorted(payers))
    pos_ours = [[r["code"], r["name"], r["description"]] for r in T["pos.csv"]]
    if pos_ours != pos_src:
        probs.append("pos.csv differs from shared/data/pos/pos_codes.csv")
    c.check("modifiers (%d), payers (%d), POS (%d rows = CMS list)" % (len(mods), len(payers), len(pos_ours)), probs)

    failed = [n for n, p in c.results if p]
    print("\n%d checks, %d failed" % (len(c.results), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
