import TOMLKit
import Issuance

extension Configuration.Reader {
    /// One `[profiles.NAME]`: its own sections over the top level's values, its own
    /// folders, and `outputs`. Nil when the name is not one a profile may have, or a folder
    /// is missing (both reported).
    mutating func readProfile(named name: String, table: TOMLTable, inheriting top: Configuration.Profile) -> Configuration.Profile? {
        let prefix = [Configuration.TopLevelKey.profiles.rawValue, name]
        let known = Configuration.ProfileKey.allCases.map(\.rawValue)
        let profileTable = SectionTable(table: table, prefix: prefix, keys: known)
        if let problem = Configuration.Profile.problemWithName(name) {
            report(.invalidValue, at: prefix, line: locator.line(of: prefix), problem)
            return nil
        }
        rejectUnknownKeys(in: profileTable)

        func section(_ section: Configuration.Section) -> SectionTable {
            let value = table[section.rawValue]
            if let value, value.table == nil {
                report(.wrongType, section.rawValue, in: profileTable, "expected a table ([\(profileTable.name).\(section.rawValue)]), found \(Self.describe(value))")
            }
            let sectionTable = SectionTable(section: section, table: value?.table, under: prefix)
            rejectUnknownKeys(in: sectionTable)
            return sectionTable
        }
        let spool = readSpool(section(.spool), inheriting: top.spool, ownFolders: true)
        let certificateSection = section(.certificate)
        let certificate = readCertificate(certificateSection, inheriting: top.certificate)
        let policySection = section(.policy)
        let policy = readPolicy(policySection, inheriting: top.policy)
        let names = readNames(section(.names), profile: name, inheriting: top.names)
        let outputs = readOutputs(in: profileTable) ?? top.outputs
        checkDefaultUsages(certificate: certificate, in: certificateSection, policy: policy, in: policySection)
        // A profile without its own folders was reported; comparing the top level's in
        // their place with the other folders would only add false reports.
        guard Configuration.ownSpoolKeys.allSatisfy({ table[Configuration.ProfileKey.spool.rawValue]?.table?[$0.rawValue] != nil }) else {
            return nil
        }
        return Configuration.Profile(name: name, spool: spool, certificate: certificate, policy: policy, names: names, outputs: outputs)
    }

    /// `outputs`: the formats of `OutputFormat`, at least one, none twice. Nil when absent
    /// or unusable (reported).
    mutating func readOutputs(in section: SectionTable) -> [OutputFormat]? {
        let key = Configuration.TopLevelKey.outputs.rawValue
        guard let entries = strings(key, in: section) else {
            return nil
        }
        let known = OutputFormat.allCases.map(\.rawValue)
        guard !entries.isEmpty else {
            report(.invalidValue, key, in: section, "must name at least one format (\(known.joined(separator: ", ")))")
            return nil
        }
        var formats: [OutputFormat] = []
        var valid = true
        for (position, entry) in entries.enumerated() {
            let quoted = String(reflecting: entry)
            guard let format = OutputFormat(rawValue: entry) else {
                var message = "\(quoted) is not an output format (\(known.joined(separator: ", ")))"
                if let suggestion = Configuration.suggestion(for: entry, among: known) {
                    message += "; did you mean \(suggestion)?"
                }
                report(.invalidValue, key, element: position, in: section, message)
                valid = false
                continue
            }
            guard !formats.contains(format) else {
                report(.invalidValue, key, element: position, in: section, "\(quoted) is listed twice")
                valid = false
                continue
            }
            formats.append(format)
        }
        return valid ? formats : nil
    }
}
