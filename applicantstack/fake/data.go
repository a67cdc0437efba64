package fake

// The word lists below feed the generator. They mix plain ASCII with the
// characters real accounts hold (accents, apostrophes, Vietnamese
// diacritics) so that encoding bugs show up in tests.

var firstNames = []string{
	"James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
	"David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica",
	"Thomas", "Sarah", "Christopher", "Karen", "Daniel", "Lisa", "Matthew", "Nancy",
	"Anthony", "Betty", "Mark", "Sandra", "Donald", "Ashley", "Steven", "Kimberly",
	"Andrew", "Emily", "Joshua", "Donna", "Kevin", "Michelle", "Brian", "Carol",
	"José", "Zoë", "María", "Renée", "Chloé", "André", "Siobhán", "Björn",
	"Thanh", "Minh", "Aaliyah", "DeShawn", "Priya", "Wei", "Fatima", "Mateo",
}

var lastNames = []string{
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
	"Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas",
	"Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White",
	"Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young",
	"O'Brien", "O'Connor", "D'Angelo", "Nguyễn", "Trần", "Müller", "Peña", "Ibáñez",
	"Núñez", "Łukasz", "Smith-Jones", "van der Berg", "McAllister", "St. Clair", "Patel", "Kim",
}

// users are the recruiters and hiring managers of every tenant; each tenant
// takes a seeded subset.
var userNames = []string{
	"Kelly O'Brien", "Marcus Reed", "Ana Sofía Díaz", "Tom Becker", "Grace Liu",
	"Jordan Ellis", "Hannah Kowalski", "Luis Ortega", "Renée Fontaine", "Sam Patel",
	"Dana Whitfield", "Nguyễn Văn An",
}

var emailDomains = []string{"example.com", "example.net", "example.org", "mail.example.com"}

var streets = []string{
	"Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Park Blvd", "Elm St", "Washington Ave",
	"Lake Shore Dr", "Pine Rd", "Sunset Blvd", "Highland Ave", "Magnolia Way",
}

type place struct {
	city, state, stateName, zip string
	area                        string // phone area code
}

var places = []place{
	{"Atlanta", "GA", "Georgia", "303", "404"},
	{"Fort Myers", "FL", "Florida", "339", "239"},
	{"Sarasota", "FL", "Florida", "342", "941"},
	{"Austin", "TX", "Texas", "787", "512"},
	{"Houston", "TX", "Texas", "770", "713"},
	{"Denver", "CO", "Colorado", "802", "303"},
	{"Columbus", "OH", "Ohio", "432", "614"},
	{"Raleigh", "NC", "North Carolina", "276", "919"},
	{"Phoenix", "AZ", "Arizona", "850", "602"},
	{"Portland", "OR", "Oregon", "972", "503"},
	{"Nashville", "TN", "Tennessee", "372", "615"},
	{"Minneapolis", "MN", "Minnesota", "554", "612"},
	{"Salt Lake City", "UT", "Utah", "841", "801"},
	{"Pittsburgh", "PA", "Pennsylvania", "152", "412"},
}

type department struct {
	name     string
	category string
	exempt   bool
	titles   []string
}

var departments = []department{
	{"Nursing", "Professionals", false, []string{"Registered Nurse", "Licensed Practical Nurse", "CNA or HHA", "Charge Nurse", "Nurse Manager"}},
	{"Therapy Services", "Professionals", false, []string{"Certified Occupational Therapist Assistant PRN", "Physical Therapist", "Speech-Language Pathologist", "Physical Therapy Aide"}},
	{"Operations", "Officials and Managers", true, []string{"Operations Manager", "Site Supervisor", "Logistics Coordinator", "Facilities Technician"}},
	{"Customer Service", "Administrative Support Workers", false, []string{"Customer Service Representative", "Call Center Agent", "Front Desk Receptionist", "Patient Access Specialist"}},
	{"Sales", "Sales Workers", true, []string{"Account Executive", "Sales Development Representative", "Territory Manager", "Inside Sales Associate"}},
	{"Finance", "Professionals", true, []string{"Staff Accountant", "Payroll Specialist", "Billing Coordinator", "Financial Analyst"}},
	{"Engineering", "Professionals", true, []string{"Software Engineer", "QA Analyst", "IT Support Technician", "Data Analyst"}},
	{"Warehouse", "Laborers and Helpers", false, []string{"Warehouse Associate", "Forklift Operator", "Shipping & Receiving Clerk", "Delivery Driver (CDL-A)"}},
	{"Human Resources", "Officials and Managers", true, []string{"HR Generalist", "Recruiter", "Benefits Administrator"}},
}

var jobBoards = []string{"applicantstack", "glassdoor", "google", "indeed", "linkedinjobs", "ziprecruiter"}

// sources and their weights for candidate Source.
var (
	sources       = []string{"Indeed", "LinkedIn", "Company Website", "Referral", "ZipRecruiter", "Glassdoor", "Job Fair", "Facebook", "Craigslist", "Other"}
	sourceWeights = []int{30, 14, 20, 8, 10, 7, 3, 3, 2, 3}
)

var dispositions = []string{
	"Insufficient Education", "Insufficient Experience", "Not a Fit", "Position Filled",
	"No Show", "Failed Background Check", "Salary Requirements Too High", "Not Eligible for Rehire",
}

var ratings = []string{"Top Prospect", "Good Fit", "Maybe", "Not a Fit"}

var comments = []string{
	"Left voicemail, will try again tomorrow.",
	"Great phone screen &ndash; strong communication skills.",
	"Candidate asked about &quot;flexible&quot; scheduling.",
	"References checked: 2 of 3 returned.",
	"Prefers day shift; available in two weeks.",
	"Rescheduled interview at candidate&apos;s request.",
}

var coverLetters = []string{
	"",
	"",
	"Dear Hiring Manager,\r\n\r\nI am excited to apply for this position. I bring several years of relevant experience and a strong work ethic.\r\n\r\nThank you for your consideration.",
	"To whom it may concern:\r\n\r\nPlease accept my application. I&apos;m a quick learner and a team player &amp; I would love to join your team.",
	"Hello! I saw your posting on a job board and I think I&apos;d be a &quot;great fit&quot;. My resume is attached.",
}

// customFields are the extra label keys some tenants have on candidates.
var customFields = []struct {
	label  string
	values []string
}{
	{"Primary Phone (Cell Phone)", nil}, // filled from the candidate's phone
	{"Desired Salary", []string{"", "$18/hour", "$45,000", "negotiable", "$70k-$80k"}},
	{"Willing to Relocate?", []string{"Yes", "No", ""}},
	{"Are you at least 18 years of age?", []string{"Yes", "Yes", "Yes", "No"}},
}

var educationLevels = []string{"High School Diploma/GED", "Some College", "Associate Degree", "Bachelor&apos;s Degree", "Master&apos;s Degree"}

var feedbackStrengths = []string{
	"<p>Strong clinical background</p>",
	"<ul><li>Punctual</li><li>Good rapport with team</li></ul>",
	"<p>Excellent communication &amp; follow-up</p>",
	"<p>Relevant certifications; <b>strong</b> references</p>",
}

var hireStages = []string{"New", "In Progress", "Complete"}
