import Issuance

extension Configuration.Reader {
    /// `[names]`, or a profile's: nil when neither it nor `inheriting` exists (every
    /// well-formed name allowed). A profile's table replaces only the keys it sets; one
    /// without a table takes the top level's policy whole.
    ///
    /// The rules are checked by `NamePolicy` itself, the one place that knows them; each
    /// problem it finds is reported on its element's line.
    mutating func readNames(_ section: SectionTable, profile: String, inheriting inherited: NamePolicy?) -> NamePolicy? {
        guard section.table != nil else {
            return inherited?.forProfile(profile)
        }
        var lists = inherited?.lists ?? [:]
        for list in NamePolicy.List.allCases {
            if let entries = strings(Configuration.NamesKey(list).rawValue, in: section) {
                lists[list] = entries
            }
        }
        let allowWildcards = bool(Configuration.NamesKey.allowWildcards.rawValue, in: section) ?? inherited?.allowWildcards ?? false
        let freeTextCN = bool(Configuration.NamesKey.freeTextCN.rawValue, in: section) ?? inherited?.freeTextCN ?? false
        do {
            return try NamePolicy(profile: profile, lists: lists, allowWildcards: allowWildcards, freeTextCN: freeTextCN)
        } catch {
            for problem in error.problems {
                // An inherited list was valid at the top, so every problem is in this section.
                report(.invalidValue, Configuration.NamesKey(problem.list).rawValue, element: problem.position, in: section, problem.message)
            }
            return nil
        }
    }
}
