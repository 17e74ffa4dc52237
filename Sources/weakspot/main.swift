import Foundation
import WeakSpotCLI
