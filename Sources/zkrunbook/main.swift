import Foundation
import ZKRunbookCLI

exit(CLI.main(Array(CommandLine.arguments.dropFirst())).rawValue)
