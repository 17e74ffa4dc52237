import Foundation
import WeakSpotCLI

exit(WeakSpotCLI.main())
