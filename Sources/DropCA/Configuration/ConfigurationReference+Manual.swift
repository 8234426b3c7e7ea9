import Foundation

extension ConfigurationReference {
    /// dropca.toml(5) in mdoc, the macro set of the other pages (swift-argument-parser's
    /// generate-manual writes mdoc for dropca(1) and its subcommands). Written by hand
    /// because no library renders a key table to a manual page; `date` is the page's
    /// `.Dd`, given by the build so that the same sources give the same page.
    public static func manualPage(date: String) -> String {
        var page: [String] = [
            ".Dd \(text(date))",
            ".Dt DROPCA.TOML 5",
            ".Os",
            ".Sh NAME",
            ".Nm dropca.toml",
            ".Nd configuration of the dropca certificate authority",
            ".Sh SYNOPSIS",
            ".Pa /etc/dropca/dropca.toml",
            ".Sh DESCRIPTION",
            text(introduction),
            ".Pp",
            text("""
                Each key below is given with its default. A key shown as unset is left out \
                unless set, and what leaving it out means is said with it. dropca init writes a \
                file with every key, its default and the text below as comments.
                """),
        ]
        page += [".Sh TOP-LEVEL KEYS", text("Written before the first [section]."), ".Bl -tag -width Ds"]
        for key in topLevel { page += item(key) }
        page += [".El", ".Sh SECTIONS"]
        for section in sections {
            page += [".Ss \(text("[" + section.name + "]"))", text(section.meaning), ".Bl -tag -width Ds"]
            for key in section.keys { page += item(key) }
            page += [".El"]
        }
        page += [
            ".Sh PROFILES",
            text(profiles),
            ".Pp",
            text("""
                A profile's keys are the ones of the sections above, under the profile's name: \
                [profiles.NAME.spool], [profiles.NAME.certificate], [profiles.NAME.policy], \
                [profiles.NAME.names], and profiles.NAME.outputs.
                """),
            ".Sh EXAMPLES",
            text("A profile for printers, which get a PEM chain as well, for 90 days, and only names below printers.corp.example:"),
            ".Bd -literal -offset indent",
        ]
        page += profileExample.split(separator: "\n").map { text(String($0)) }
        page += [
            ".Ed",
            ".Sh FILES",
            ".Bl -tag -width Ds",
            ".It Pa /etc/dropca/dropca.toml",
            "The configuration of the service, dropca.service.",
            ".It Pa /usr/share/doc/dropca/README.md",
            "The operator's guide: installation, SFTP accounts, profiles, revocation, metrics.",
            ".El",
            ".Sh SEE ALSO",
            ".Xr dropca 1 ,",
            ".Xr dropca-check-config 1 ,",
            ".Xr dropca-init 1 ,",
            ".Xr dropca-run 1",
        ]
        return page.joined(separator: "\n") + "\n"
    }

    /// One key as a tagged list item: its name, its meaning, its default.
    private static func item(_ key: Key) -> [String] {
        let shown: String
        switch key.value {
        case .default(let value): shown = "Default: " + value + "."
        case .given(_, let manual): shown = manual == "required" ? "Required." : "Default: " + manual + "."
        case .example(let value): shown = "Unset by default. Example: " + key.name + " = " + value + "."
        }
        return [".It Ic \(key.name)", text(key.meaning), ".Pp", text(shown)]
    }

    /// Text for a text line of the page: roff's escape character written as `\e`, and a
    /// zero-width `\&` before a line that would otherwise start with a control character
    /// (`.` or `'`) and be read as a request.
    static func text(_ text: String) -> String {
        let escaped = text.replacingOccurrences(of: "\\", with: "\\e")
        return escaped.first == "." || escaped.first == "'" ? "\\&" + escaped : escaped
    }
}
