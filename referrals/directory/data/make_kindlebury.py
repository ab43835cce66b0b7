"""Write the demo town's community directory: Kindlebury, a fictional town (postcode areas
KB1-KB5, not real UK areas) around 52.800, -2.100.

    python referrals/directory/data/make_kindlebury.py

rewrites, next to this script:
  kindlebury-directory.json  one Open Referral UK 3.0 page of fully nested services
  kindlebury-postcodes.csv   postcode,latitude,longitude for every postcode the demo uses,
                             plus outward-code centroids (KB1..KB5)

Stdlib only and deterministic: every id is a uuid5 of a readable name, so re-running the
script gives byte-identical files. Category, offer-kind and capacity terms come from
referrals/directory/vocabulary.py (loaded by path, so Flask need not be installed).
"""
from __future__ import annotations

import csv
import importlib.util
import json
import math
import sys
import uuid
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("kindly_vocabulary", HERE.parent / "vocabulary.py")
vocab = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = vocab
_spec.loader.exec_module(vocab)

NAMESPACE = uuid.UUID("5d0f6b0e-7f53-4d0c-9a47-2f3b6c1e9a10")
ASSURER = "coordinator@kindly.example"
CENTRE_LAT, CENTRE_LON = 52.800, -2.100  # KB1 1AB, Market Street Surgery
KIND_TAXONOMY_NAME, CAPACITY_TAXONOMY_NAME = "Kindly offer kinds", "Kindly capacity status"


def uid(kind: str, slug: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"demo-{kind}:{slug}"))


def coords(east_km: float, north_km: float) -> tuple[float, float]:
    """Latitude/longitude of a point this many km east and north of KB1 1AB."""
    lat = CENTRE_LAT + north_km / 111.25
    lon = CENTRE_LON + east_km / (111.32 * math.cos(math.radians(CENTRE_LAT)))
    return round(lat, 6), round(lon, 6)


# Organisations: slug (also web host and email), name, contact, contact's title, phone
# (01632 960xxx, Ofcom's drama range), description.
ORGS = [
    ("community-centre", "Kindlebury Community Centre Trust", "Janet Holloway", "Centre manager", "101", "The charity that runs Kindlebury Community Centre on Forge Street, with rooms for clubs, classes and exercise groups."),
    ("age-friendly", "Age Friendly Kindlebury", "Margaret Okafor", "Lunch club organiser", "112", "A local charity for older people, running lunch clubs, a good-neighbours scheme and volunteer helpers across the town and villages."),
    ("walking", "Kindlebury Walking for Health", "Dev Mistry", "Walks coordinator", "123", "Free, volunteer-led health walks in and around Kindlebury, at a pace that suits beginners."),
    ("riverside-shed", "Riverside Men's Shed", "Colin Bradshaw", "Shed chair", "134", "A community workshop on Wharf Yard where people make, mend and chat."),
    ("upper-shed", "Upper Kindlebury Men's Shed", "Alan Fairweather", "Secretary", "145", "A small village shed in the old forge at Upper Kindlebury."),
    ("pennimore", "Pennimore Village Association", "Brian Collier", "Secretary", "150", "Volunteers who run the village hall, men's shed and friendship club in Pennimore, north-east of Kindlebury."),
    ("befriending", "Kindlebury Befriending Service", "Ruth Adeyemi", "Befriending coordinator", "156", "Matches lonely and isolated people with trained volunteer befrienders, by phone or at home."),
    ("advice", "Kindlebury Advice Centre", "Sanjay Kapoor", "Advice services manager", "167", "Free, independent and confidential advice on benefits, debt, bills and work."),
    ("carers", "Kindlebury Carers Network", "Helen Marsh", "Carers support worker", "178", "Information, groups and one-to-one support for unpaid carers in Kindlebury and the villages."),
    ("bereavement", "Kindlebury Bereavement Circle", "Frances Doyle", "Bereavement support lead", "189", "Volunteers trained to support people after someone close to them has died."),
    ("st-marys", "St Mary's Church, Kindlebury", "Revd Paul Whitaker", "Vicar", "190", "The town-centre parish church, whose hall hosts many of Kindlebury's community groups."),
    ("village-hall", "Upper Kindlebury Village Hall", "Susan Pryce", "Hall secretary", "201", "The village hall on The Green, run by volunteers for clubs, classes and celebrations."),
    ("library", "Kindlebury Library", "Aisha Rahman", "Community librarian", "212", "The town library on Market Square: books, computers, groups and help getting online."),
    ("riverside-hub", "Riverside Community Hub", "Gemma Lowe", "Hub coordinator", "223", "A community centre and café by the river, with groups, courses and advice sessions."),
    ("community-garden", "Mill Lane Community Garden", "Tom Ashby", "Garden coordinator", "234", "A volunteer-run food and wildlife garden on the Mill Lane allotments."),
    ("choir", "Kindlebury Community Choir", "Eleanor Grant", "Musical director", "245", "A no-audition community choir that rehearses weekly in the town centre."),
    ("arts", "Kindlebury Arts Collective", "Priya Sandhu", "Arts programme lead", "256", "Local artists and makers running art groups for people of all abilities."),
    ("polish", "Polish Community Association of Kindlebury", "Agnieszka Nowak", "Chair", "267", "A community association for Polish speakers in Kindlebury, with a centre on Tanners Row."),
    ("gurdwara", "Guru Nanak Gurdwara Kindlebury", "Harjit Singh Gill", "Seva coordinator", "278", "The town's Sikh gurdwara, which serves free meals and hosts community sessions open to all."),
    ("deaf-club", "Kindlebury Deaf Club", "Mark Ellison", "Club secretary", "289", "A social club for Deaf and hard of hearing people, run in British Sign Language."),
    ("wellbeing", "Kindlebury Wellbeing Collective", "Naomi Fletcher", "Peer support lead", "290", "Peer support groups and creative courses for people looking after their mental health."),
    ("transport", "Kindlebury Community Transport", "Graham Pike", "Volunteer driver coordinator", "301", "Door-to-door lifts by minibus and volunteer car for people who can't easily use buses."),
    ("pantry", "Kindlebury Community Pantry", "Leanne Walsh", "Pantry coordinator", "312", "Turns surplus food into meals and runs practical money courses."),
    ("thistlecombe-farm", "Thistlecombe Community Farm", "Kate Hollins", "Farm manager", "334", "A small working farm near Thistlecombe offering green care days and volunteering."),
    ("young-carers", "Kindlebury Young Carers Project", "Jordan Price", "Youth worker", "345", "Support, breaks and a weekly club for young carers and young adult carers."),
    ("methodist", "Kindlebury Methodist Church", "Revd Grace Mensah", "Minister", "356", "A friendly chapel on Chapel Street whose hall is home to a choir, a tea dance and a memory café."),
    ("housing", "Kindlebury Tenants' Advice", "Owen Jarvis", "Housing adviser", "367", "Free advice for tenants and homeowners on repairs, rent and keeping a home."),
    ("memory", "Forget-Me-Not Kindlebury", "Linda Shaw", "Memory café organiser", "378", "A volunteer group supporting people living with dementia and the people who care for them."),
    ("hillview-friends", "Friends of Hillview Country Park", "Rachel Dunn", "Volunteer ranger", "389", "Volunteers who help look after the woods, meadows and paths of Hillview Country Park."),
    ("breathe", "Kindlebury Heart and Lung Support Group", "Keith Morley", "Group leader", "390", "A support group for people living with heart and lung conditions, and their families."),
    ("allotments", "Upper Kindlebury Allotment Society", "Sheila Brooks", "Plot secretary", "401", "The allotment society for Hillview Allotments, with a shared plot for beginners."),
    ("st-chads", "St Chad's Church, Upper Kindlebury", "Revd Simon Hale", "Rector", "412", "The village church of Upper Kindlebury, whose church rooms host evening groups."),
]

# Venues: slug, name, street, town, postcode, km east and north of KB1 1AB, accessibility
# feature codes (vocabulary.ACCESSIBILITY), description.
VENUES = [
    ("market-surgery", "Market Street Surgery", "12 Market Street", "Kindlebury", "KB1 1AB", 0.0, 0.0, "step-free accessible-toilet hearing-loop parking public-transport", "GP surgery in the middle of the town centre."),
    ("library", "Kindlebury Library", "1 Market Square", "Kindlebury", "KB1 1AD", 0.15, 0.10, "step-free accessible-toilet hearing-loop seating large-print public-transport", "Town-centre library with a ground-floor community room."),
    ("town-hall", "Kindlebury Town Hall", "Bridge Street", "Kindlebury", "KB1 8FJ", 0.05, -0.15, "step-free accessible-toilet hearing-loop quiet-space public-transport", "Meeting and interview rooms on the ground floor; entrance by the side ramp."),
    ("st-marys-hall", "St Mary's Church Hall", "Church Lane", "Kindlebury", "KB1 3BG", 0.30, -0.35, "step-free accessible-toilet seating dementia-friendly public-transport", "Church hall behind St Mary's, with a kitchen and level access."),
    ("community-centre", "Kindlebury Community Centre", "22 Forge Street", "Kindlebury", "KB1 5BQ", -0.55, -0.20, "step-free accessible-toilet hearing-loop parking quiet-space seating", "Community centre with a main hall, café kitchen and small meeting rooms."),
    ("methodist", "Kindlebury Methodist Church Hall", "Chapel Street", "Kindlebury", "KB1 2BW", -0.30, 0.45, "step-free accessible-toilet hearing-loop seating dementia-friendly", "Bright hall next to the chapel, with a sprung wooden floor."),
    ("deaf-centre", "Kindlebury Deaf Centre", "5 Orchard Walk", "Kindlebury", "KB1 4DS", 0.45, 0.75, "step-free accessible-toilet hearing-loop bsl quiet-space", "The Deaf Club's own rooms, with BSL-using staff and volunteers."),
    ("polish-centre", "Polish Community Centre", "9 Tanners Row", "Kindlebury", "KB1 9GL", -1.00, 0.60, "step-free seating", "A former shop converted into a community room and kitchen."),
    ("park", "Kindlebury Park, Lodge Gate", "Park Road", "Kindlebury", "KB1 7EH", 0.70, -0.70, "parking public-transport seating dementia-friendly", "Meet at the lodge café by the main gate; flat tarmac paths."),
    ("transport-depot", "Kindlebury Community Transport Office", "Station Yard", "Kindlebury", "KB1 9HN", 0.90, 0.30, "step-free parking public-transport", "Office and minibus depot beside the railway station."),
    ("riverside-hub", "Riverside Community Hub", "2 Wharf Road", "Kindlebury", "KB2 2GA", 1.90, -0.70, "step-free accessible-toilet hearing-loop quiet-space public-transport", "Community hub and café on the river side of town."),
    ("riverside-medical", "Riverside Medical Centre", "Mill Lane", "Kindlebury", "KB2 3BD", 2.00, -0.90, "step-free accessible-toilet hearing-loop parking", "GP practice by the river; clinics are held in the first-floor community room (lift available)."),
    ("gurdwara", "Guru Nanak Gurdwara", "40 Canal Street", "Kindlebury", "KB2 8NB", 1.70, -1.10, "step-free accessible-toilet parking seating", "Gurdwara with a large community hall and kitchen."),
    ("community-garden", "Mill Lane Community Garden", "Mill Lane Allotments", "Kindlebury", "KB2 5JN", 2.70, -1.50, "parking seating quiet-space", "Garden with raised beds, a polytunnel and a sheltered seating area."),
    ("riverside-shed", "Riverside Men's Shed", "Unit 3, Wharf Yard", "Kindlebury", "KB2 6HR", 2.20, -1.80, "step-free parking", "Ground-floor workshop unit on Wharf Yard."),
    ("hillview-health", "Hillview Health Centre", "4 Hillview Road", "Upper Kindlebury", "KB3 5EF", -3.00, 2.60, "step-free accessible-toilet hearing-loop parking public-transport", "GP practice serving Upper Kindlebury."),
    ("village-hall", "Upper Kindlebury Village Hall", "The Green", "Upper Kindlebury", "KB3 3QA", -3.20, 2.90, "step-free accessible-toilet hearing-loop parking seating", "Village hall on The Green with a car park at the back."),
    ("st-chads", "St Chad's Church Rooms", "Church Street", "Upper Kindlebury", "KB3 6RT", -3.70, 3.30, "step-free seating quiet-space", "Church rooms beside St Chad's, entered from the churchyard path."),
    ("old-forge", "The Old Forge", "Forge Lane", "Upper Kindlebury", "KB3 4PD", -3.50, 2.70, "parking", "Stone workshop on Forge Lane; one small step at the door."),
    ("hillview-allotments", "Hillview Allotments", "Allotment Lane", "Upper Kindlebury", "KB3 1LG", -2.80, 2.30, "parking", "Allotment site with a shared shed; grass paths can be uneven."),
    ("hillview-park", "Hillview Country Park Visitor Centre", "Moor Road", "Upper Kindlebury", "KB3 7SX", -4.30, 3.90, "parking accessible-toilet seating", "Visitor centre and car park at the edge of the country park."),
    ("pennimore-hall", "Pennimore Village Hall", "Main Street", "Pennimore", "KB4 1TL", 7.50, 8.50, "step-free accessible-toilet parking", "Village hall with the men's shed in the outbuilding behind."),
    ("pennimore-reservoir", "Pennimore Reservoir Car Park", "Reservoir Lane", "Pennimore", "KB4 3WB", 8.50, 9.50, "parking accessible-toilet", "Car park and toilets at the dam end of the reservoir."),
    ("thistlecombe-farm", "Thistlecombe Community Farm", "Thistlecombe Lane", "Thistlecombe", "KB5 2UZ", -9.00, -10.00, "step-free accessible-toilet parking quiet-space", "Working farm with a farmhouse kitchen and level yard."),
]
# Telephone-only offers (location_type "virtual": no address, no coordinates).
VIRTUAL = {
    "phone-friends": ("Telephone Friends phone line", "Calls are made by volunteers to your home or mobile phone."),
    "phone-polish": ("Rozmowa phone line", "Calls in Polish, made by volunteers to your phone."),
    "phone-volunteers": ("Volunteering from home by phone", "Volunteers make their calls from home."),
}
RESIDENTS = [("KB1 2AA", -0.40, 0.30), ("KB1 4BT", 0.60, 0.50), ("KB1 6DQ", -0.80, -0.60),
             ("KB2 1EX", 1.60, -0.30), ("KB2 4HP", 2.40, -1.20), ("KB2 7LU", 2.90, -1.90),
             ("KB3 2NS", -2.50, 2.00), ("KB3 5PW", -3.40, 3.00), ("KB3 8RY", -4.00, 3.60)]
OUTCODES = [("KB1", -0.05, -0.05), ("KB2", 2.20, -1.20), ("KB3", -3.40, 3.00),
            ("KB4", 8.00, 9.00), ("KB5", -9.00, -10.00)]

# Offers: slug, organisation, kind (g group, s service, v volunteering), category codes,
# venues, schedule, cost, ages, language codes, capacity (o open, w waiting list, f full),
# assured date, name, description and, optionally, who it is for (else worded from the ages).
#   schedule: "TU 10:00 11:00" weekly, "1TH 14:00 16:00" monthly (nth weekday),
#             "~text" flexible (description only), "" none
#   cost:     "" free, or "amount|option|description"
#   ages:     "" none, "18" minimum, "18-25" range
OFFERS = [
    ("park-health-walk", "walking", "g", "physical-activity social-groups", "park", "TU 10:00 11:00", "", "18", "en", "o", "2026-10-14", "Kindlebury Park Health Walk", "A gentle one-hour walk on the flat paths around Kindlebury Park, led by trained volunteers who keep the pace friendly. Most walkers stay for a cuppa at the lodge café afterwards, and you only need comfortable shoes."),
    ("hillview-tuesday-stroll", "walking", "g", "physical-activity gardening-nature", "hillview-park", "TU 13:30 15:30", "", "18", "en", "o", "2026-08-20", "Hillview Country Park Tuesday Stroll", "A two-hour countryside walk through the woods and meadows of Hillview Country Park, with a rest stop halfway. There are some gentle slopes and a couple of stiles, so it suits people who already walk a little. The group meets at the visitor centre."),
    ("riverside-wander", "walking", "g", "physical-activity social-groups", "riverside-hub", "TH 10:30 11:30", "", "18", "en", "o", "2025-02-11", "Riverside Thursday Wander", "An easy hour-long walk along the river towpath, starting and finishing at the Riverside Community Hub. The path is level and wide, with benches along the way, and walkers are welcome to stay for coffee afterwards."),
    ("pennimore-reservoir-walk", "walking", "g", "physical-activity gardening-nature", "pennimore-reservoir", "1SA 10:00 13:00", "", "18", "en", "o", "2026-06-02", "Pennimore Reservoir Walk", "A longer monthly walk of about five miles around Pennimore Reservoir and the fields beyond, stopping for a packed lunch at the bird hide. It suits people who enjoy a good stretch of the legs. Lifts from Kindlebury can often be shared; just ask."),
    ("sit-fit", "community-centre", "g", "physical-activity health-conditions", "community-centre", "FR 11:00 12:00", "2|Per session|£2 per session", "50", "en", "o", "2026-09-03", "Sit Fit Chair Exercise", "A friendly chair-based class that gently builds strength, balance and movement, all from a seated position. The instructor adapts every move for stiff joints or long-term conditions, and tea and a chat follow the class.", "People aged 50 and over; suitable for people with limited mobility."),
    ("tea-dance", "methodist", "g", "physical-activity social-groups music-singing", "methodist", "WE 14:00 16:00", "3|Per session|£3 including tea and cake", "18", "en", "o", "2024-09-10", "Wednesday Tea Dance", "An afternoon of ballroom and sequence dancing to old favourites in the chapel hall. Complete beginners are welcome and someone is always happy to show you the steps. Plenty of people come just to listen to the music and chat."),
    ("market-lunch-club", "age-friendly", "g", "food-lunch-clubs social-groups", "st-marys-hall", "WE 12:00 14:00", "3|Lunch|£3 for a two-course lunch", "55", "en", "o", "2026-09-30", "Wednesday Lunch Club at St Mary's", "A warm two-course lunch cooked on site and served at shared tables, followed by a quiz or a game of bingo. Many members have been coming for years, and newcomers are made very welcome. Let us know about any dietary needs when you book.", "People aged 55 and over; please book by the Monday before."),
    ("riverside-lunch", "riverside-hub", "g", "food-lunch-clubs social-groups", "riverside-hub", "FR 12:00 13:30", "3.5|Lunch|£3.50 for lunch and a hot drink", "18", "en", "w", "2026-05-14", "Riverside Friday Lunch", "A relaxed Friday lunch at the hub, with a hot main course, a pudding and a pot of tea. It's a good place to meet neighbours from the river side of town. The club is popular, so new members join a short waiting list."),
    ("upper-village-lunch", "age-friendly", "g", "food-lunch-clubs social-groups", "village-hall", "2TH 12:30 14:00", "4|Lunch|£4 for a three-course lunch", "60", "en", "f", "2025-11-05", "Upper Kindlebury Village Lunch", "A monthly three-course lunch in the village hall, cooked by volunteers from the village and usually finished off with a raffle. The club has reached the hall's capacity and isn't taking new members at the moment.", "People aged 60 and over living in Upper Kindlebury."),
    ("sanjh-lunch", "gurdwara", "g", "food-lunch-clubs social-groups", "gurdwara", "MO,TH 12:00 14:00", "", "50", "en pa ur", "o", "2026-07-08", "Sanjh Lunch Club", "A free vegetarian lunch and a good conversation for older people, served in the gurdwara's community hall. Everyone is welcome whatever their faith, and volunteers speak Punjabi, Urdu and English. Head coverings are provided.", "People aged 50 and over, of any faith or none."),
    ("pantry-cafe", "pantry", "g", "food-lunch-clubs social-groups", "community-centre", "SA 10:00 13:00", "0|Pay as you feel|Pay what you can; nobody is turned away", "", "en", "o", "2026-11-06", "Saturday Pay-as-you-feel Café", "A Saturday café serving hot breakfasts, soup and cake made from good surplus food, where you pay what you can afford. It's a busy, friendly place to sit and chat, and volunteers can point you to other help if you need it.", "Open to everyone, including families with children."),
    ("polish-sunday-lunch", "polish", "g", "food-lunch-clubs social-groups", "polish-centre", "1SU 13:00 15:00", "5|Lunch|£5 for a home-cooked Polish lunch", "18", "pl en", "o", "2025-08-17", "Polish Sunday Lunch (Obiad)", "A home-cooked Polish lunch on the first Sunday of each month, with soup, a main course and cake. Conversation is mostly in Polish, but English speakers are very welcome, and it's a good way for newcomers to the town to meet people."),
    ("riverside-shed", "riverside-shed", "g", "mens-sheds social-groups", "riverside-shed", "TU,TH 09:30 13:00", "2|Per session|£2 per session towards tea and materials", "18", "en", "o", "2026-07-22", "Riverside Men's Shed", "A well-equipped workshop where people make, mend and chat over a mug of tea, from bird boxes to repairing garden benches for neighbours. No skills are needed, as experienced members are happy to teach, and despite the name women are welcome too."),
    ("upper-shed", "upper-shed", "g", "mens-sheds social-groups", "old-forge", "WE 10:00 15:00", "1|Per session|£1 per session for the tea fund", "18", "en", "w", "2025-03-18", "Upper Kindlebury Men's Shed", "A small shed in the old village forge with woodworking and metalwork tools and a kettle that's always on. Members take on repairs for the village school and church. Space is tight, so new members join a waiting list."),
    ("pennimore-shed", "pennimore", "g", "mens-sheds social-groups", "pennimore-hall", "MO 10:00 13:00", "2|Per session|£2 per session", "18", "en", "o", "2026-07-14", "Pennimore Men's Shed", "A village shed behind Pennimore Village Hall where members work on woodturning, restoration and community projects. The group is small and welcoming, and suits people living in the villages north-east of Kindlebury."),
    ("telephone-friends", "befriending", "s", "befriending", "phone-friends", "~A weekly phone call of about half an hour, at a time agreed with your befriender", "", "18", "en pa", "o", "2026-10-01", "Telephone Friends", "A trained volunteer rings you for a chat at the same time each week, so there's always a call to look forward to. You can talk about anything you like, and some befrienders speak Punjabi as well as English.", "Adults who feel lonely or cut off; self-referrals welcome."),
    ("home-befriending", "befriending", "s", "befriending", "town-hall", "~A home visit of about an hour each week, on a day that suits you", "", "18", "en", "w", "2026-04-09", "Home Visiting Befriending", "A volunteer befriender visits you at home each week for a chat, a cup of tea or a short trip out. Volunteers are matched with care and we check in regularly to see how it's going. There is currently a waiting list of about six weeks.", "Adults living in Kindlebury who are lonely or find it hard to get out."),
    ("good-neighbours", "age-friendly", "s", "befriending social-groups", "village-hall", "~Visits arranged to suit you, usually weekly", "", "60", "en", "o", "2024-03-12", "Upper Kindlebury Good Neighbours", "Village volunteers who pop in for a chat, help with small jobs, or walk with you to the shop or the surgery. It's an informal, neighbourly scheme run from the village hall; ask and we'll match you with someone nearby.", "People aged 60 and over living in Upper Kindlebury."),
    ("rozmowa", "polish", "s", "befriending", "phone-polish", "~A weekly phone call in Polish, at a time that suits you", "", "18", "pl en", "o", "2026-06-17", "Rozmowa Polish Phone Befriending", "A weekly phone chat in Polish with a friendly volunteer, for people who find it easier to talk in their first language, especially older people living alone. Volunteers can also help you find other support in the town."),
    ("memory-cafe", "memory", "g", "social-groups health-conditions carers", "methodist", "3TU 14:00 16:00", "", "18", "en", "o", "2026-09-16", "Forget-Me-Not Memory Café", "A relaxed monthly café for people living with dementia and the people who care for them, with tea, music, reminiscence and gentle activities. Volunteers understand dementia, and carers often find it a good place to share tips and worries.", "People living with dementia or memory problems, with a family member or carer."),
    ("bereavement-dropin", "bereavement", "g", "bereavement social-groups", "st-marys-hall", "1WE 14:00 16:00", "", "18", "en", "o", "2026-10-21", "Bereavement Drop-in Café", "A monthly drop-in where people who have lost someone can talk, listen or simply sit with a cup of tea among others who understand. Trained volunteers are on hand, and you can come as often or as rarely as you like."),
    ("bereavement-one-to-one", "bereavement", "s", "bereavement mental-wellbeing", "town-hall", "MO,TU,WE,TH 09:30 16:30", "", "18", "en", "o", "2026-09-02", "One-to-one Bereavement Support", "Up to eight free one-to-one sessions with a trained bereavement volunteer, in person or by phone, to talk about the person who died and how you are coping. Appointments are usually offered within three weeks.", "Adults who have been bereaved; GP, social prescriber or self referral."),
    ("walk-and-talk-bereavement", "bereavement", "g", "bereavement physical-activity", "riverside-hub", "2SU 10:30 12:00", "", "18", "en", "o", "2026-07-19", "Walk and Talk Bereavement Group", "A gentle monthly walk along the river for people who are grieving, finishing with a hot drink at the hub. Walking side by side can make it easier to talk, or to be quiet together, and the volunteers have been bereaved themselves."),
    ("carers-coffee", "carers", "g", "carers social-groups", "community-centre", "1TU 10:00 12:00", "", "18", "en", "o", "2026-10-07", "Carers' Coffee Morning", "A monthly coffee morning where unpaid carers can take a breather, meet others in the same boat and pick up useful information. A carers' support worker is always there to answer questions.", "Anyone who looks after a family member or friend without being paid."),
    ("carers-support", "carers", "s", "carers money-debt", "town-hall market-surgery", "MO,WE,FR 09:00 17:00", "", "18", "en", "o", "2026-08-12", "Carers' Support Service", "One-to-one help for unpaid carers: a listening ear, help with a carer's assessment, benefits checks and planning for emergencies. Support workers see people at the town hall and at a weekly clinic in Market Street Surgery.", "Unpaid carers aged 18 or over, caring for someone in Kindlebury or the villages."),
    ("young-carers-club", "young-carers", "g", "carers social-groups", "riverside-hub", "TH 17:30 19:30", "", "18-25", "en", "o", "2026-06-25", "Young Adult Carers' Club", "A weekly evening club for young adults who look after a parent, brother, sister or partner: a chance to relax, eat pizza and talk to people who get it. A youth worker can help with college, work and money worries.", "Young adult carers aged 18 to 25."),
    ("upper-carers-group", "carers", "g", "carers social-groups", "village-hall", "3WE 14:00 15:30", "", "18", "en", "o", "2024-12-04", "Upper Kindlebury Carers' Group", "A small monthly support group for carers living in and around Upper Kindlebury. The group is paused while we look for a new volunteer organiser; the Carers' Coffee Morning in town carries on as usual."),
    ("advice-dropin", "advice", "s", "money-debt housing", "town-hall", "MO,TH 10:00 15:00", "", "18", "en", "o", "2026-11-11", "Money and Benefits Advice Drop-in", "Free, confidential advice on benefits, debt, bills and budgeting from trained advisers. Bring any letters or bills you're worried about and we'll help you work out what to do next; no appointment needed."),
    ("benefits-clinics", "advice", "s", "money-debt", "riverside-medical hillview-health", "WE 09:30 12:30", "", "18", "en", "o", "2026-08-05", "Benefits Check Clinics at the Surgeries", "An adviser holds weekly clinics at Riverside Medical Centre and Hillview Health Centre to check you're getting every benefit you're entitled to, with help filling in the forms. Ask at reception or your social prescriber to book.", "Patients of any Kindlebury practice; booking needed."),
    ("advice-punjabi-urdu", "advice", "s", "money-debt", "gurdwara", "2MO 13:00 16:00", "", "18", "en pa ur", "o", "2025-09-22", "Money Advice in Punjabi and Urdu", "A monthly advice session at the gurdwara with an adviser who speaks Punjabi and Urdu, for help with benefits, debts and official letters. It's open to everyone whatever their faith; drop in or book a slot."),
    ("money-matters-course", "pantry", "g", "money-debt learning-work", "community-centre", "TU 13:30 15:00", "", "18", "en", "o", "2025-01-20", "Money Matters Budgeting Course", "A relaxed six-week course on making money go further: budgeting, cutting bills and steering clear of expensive borrowing. Groups are small and practical, with no judgement, and tea and biscuits are included."),
    ("housing-advice", "housing", "s", "housing money-debt", "town-hall", "TU,FR 10:00 13:00", "", "18", "en", "o", "2026-07-15", "Housing Advice Sessions", "Advice for tenants and homeowners on repairs, rent arrears, eviction notices and finding somewhere to live. An adviser can contact your landlord or the council for you, and sessions are free and confidential."),
    ("knit-and-natter", "library", "g", "arts-crafts social-groups", "library", "TH 10:00 12:00", "", "18", "en", "o", "2026-10-30", "Knit and Natter", "Bring your knitting, crochet or sewing and join a friendly circle in the library's community room. Beginners can borrow needles and wool and learn from others, and members knit blankets and hats for the local hospital."),
    ("art-club", "arts", "g", "arts-crafts", "community-centre", "MO 13:30 15:30", "4|Per session|£4 per session including materials", "18", "en", "o", "2024-11-19", "Kindlebury Art Club", "A relaxed painting and drawing group with a different theme each week and gentle tips from a local artist. All materials are provided, no experience is needed, and nobody judges your work."),
    ("creative-minds", "wellbeing", "g", "arts-crafts mental-wellbeing", "riverside-hub", "WE 10:00 12:00", "", "18", "en", "f", "2026-09-09", "Creative Minds", "An eight-week creative course for people whose mood or anxiety has been getting them down, using painting, collage and clay. It's about enjoying making something, not being good at art. This course is full; the next opens for bookings in the new year.", "Adults with low mood, stress or anxiety; referral by a GP or social prescriber."),
    ("upper-craft-circle", "village-hall", "g", "arts-crafts social-groups", "village-hall", "FR 14:00 16:00", "2|Per session|£2 per session", "18", "en", "o", "2026-08-07", "Upper Kindlebury Craft Circle", "A weekly afternoon of card making, patchwork and whatever members fancy trying next, with tea, homemade cake and good company. Materials are shared, so bring what you have or borrow ours."),
    ("deaf-club-social", "deaf-club", "g", "social-groups arts-crafts", "deaf-centre", "2SA 14:00 17:00", "", "18", "bfi en", "o", "2026-05-28", "Deaf Club Social and Crafts", "A monthly social afternoon in British Sign Language, with crafts, games and plenty of conversation. Deaf and hard of hearing people, and hearing people learning to sign, are all welcome."),
    ("deaf-coffee", "deaf-club", "g", "social-groups", "deaf-centre", "WE 10:00 12:00", "", "18", "bfi en", "o", "2026-10-28", "BSL Coffee Morning", "A weekly coffee morning where the conversation happens in British Sign Language. It's a relaxed place to catch up with friends, practise signing and find out what's on in the Deaf community."),
    ("community-garden-sessions", "community-garden", "g", "gardening-nature physical-activity", "community-garden", "WE,SA 10:00 13:00", "", "18", "en", "o", "2026-09-24", "Mill Lane Community Garden Sessions", "Help grow fruit, vegetables and flowers in a friendly garden by the river, at whatever pace suits you. There are raised beds for people who can't kneel and a shelter where tea is always brewing, and you can take home a share of the produce."),
    ("thistlecombe-green-care", "thistlecombe-farm", "g", "gardening-nature mental-wellbeing", "thistlecombe-farm", "TH 10:00 15:00", "5|Per day|£5 per day including lunch", "18", "en", "o", "2026-09-10", "Thistlecombe Farm Green Care Days", "A calm, structured day on a working farm each week, looking after animals and growing vegetables in a small group, with a shared lunch around the farmhouse table. The farm is about 13 km from town, and help with transport can be arranged.", "Adults who would benefit from time outdoors, including people with low mood."),
    ("growing-together", "allotments", "g", "gardening-nature social-groups", "hillview-allotments", "SU 10:00 12:00", "", "18", "en", "o", "2026-06-03", "Growing Together Allotment Group", "A shared allotment plot where newcomers learn to grow their own food alongside experienced gardeners. Tools and seeds are provided, and there's a bench and a kettle in the shed."),
    ("community-choir", "choir", "g", "music-singing social-groups", "methodist", "TH 19:00 20:30", "3|Per session|£3 per session", "18", "en", "o", "2026-10-02", "Kindlebury Community Choir", "A friendly, no-audition choir singing pop, folk and show tunes in harmony. You don't need to read music, as parts are taught by ear, and although there are a couple of concerts a year there's no pressure to perform."),
    ("sing-and-smile", "memory", "g", "music-singing health-conditions", "st-marys-hall", "2TU 14:00 15:30", "", "18", "en", "o", "2026-10-13", "Sing and Smile", "A monthly singing session for people living with dementia and their carers, full of familiar songs and warm-up games. Song sheets are in large print, everyone joins in as much or as little as they like, and tea follows."),
    ("breathe-singing", "breathe", "g", "music-singing health-conditions", "riverside-hub", "MO 14:00 15:00", "2|Per session|£2 per session", "18", "en", "o", "2026-06-30", "Singing for Better Breathing", "A weekly seated singing group for people with COPD, asthma or other lung conditions, led by a singing teacher trained in breathing techniques. Singing helps with breath control and lifts the spirits."),
    ("ukulele-strummers", "st-chads", "g", "music-singing social-groups", "st-chads", "TU 19:00 21:00", "2|Per session|£2 per session", "18", "en", "o", "2024-07-16", "Upper Kindlebury Ukulele Strummers", "A cheerful group learning the ukulele together, from complete beginners to old hands. Spare ukuleles can be borrowed while you decide whether it's for you, and evenings end with a sing-along."),
    ("library-digital", "library", "s", "digital-skills", "library", "TU,FR 10:00 12:00", "", "18", "en pl", "o", "2026-11-18", "Digital Drop-in at the Library", "Bring your phone, tablet or laptop for friendly one-to-one help with whatever you're stuck on, from video calls to online forms and the NHS App. Digital buddies are patient and never rush you, and help is available in Polish on Fridays."),
    ("silver-surfers", "village-hall", "g", "digital-skills social-groups", "village-hall", "1MO 10:00 12:00", "", "50", "en", "o", "2026-06-08", "Silver Surfers", "A monthly session for people over 50 who want to feel more confident online: email, video calls, shopping and staying safe from scams. Tablets can be borrowed during the session, and no question is too small."),
    ("get-online-cafe", "riverside-hub", "g", "digital-skills", "riverside-hub", "WE 13:00 15:00", "", "18", "en", "o", "2024-06-05", "Get Online Café", "A weekly digital skills café with laptops and volunteer helpers. It has stopped for now while the hub looks for new funding; the library's Digital Drop-in is running as normal."),
    ("skills-for-work", "riverside-hub", "g", "learning-work digital-skills", "riverside-hub", "TU,TH 09:30 12:00", "", "18-64", "en", "o", "2026-08-27", "Skills for Work", "A free ten-week course to help you back into work or volunteering, covering CVs, online applications, interview practice and basic computer skills. Groups are small and a mentor keeps in touch afterwards.", "Adults aged 18 to 64 who are out of work or want to change jobs."),
    ("friday-coffee-morning", "st-marys", "g", "social-groups", "st-marys-hall", "FR 10:00 12:00", "1|Refreshments|£1 for tea and cake", "18", "en", "o", "2026-11-20", "Friday Coffee Morning at St Mary's", "A cheerful coffee morning with homemade cakes, a book swap and lots of conversation. There's no need to book, you can stay for ten minutes or two hours, and everyone is welcome whether or not they go to church."),
    ("talking-circle", "wellbeing", "g", "mental-wellbeing", "community-centre", "MO 18:30 20:00", "", "18", "en", "o", "2026-06-11", "Kindlebury Talking Circle", "A weekly peer support group where people share how they're feeling and listen to others who understand. It's led by two volunteers with their own experience of mental ill health, and you don't have to speak unless you want to."),
    ("heart-lung-club", "breathe", "g", "health-conditions social-groups", "community-centre", "4WE 14:00 16:00", "", "18", "en", "o", "2026-10-22", "Heart and Lung Support Club", "A monthly get-together for people living with heart or lung conditions and their families. Each meeting starts with a short talk from a nurse or therapist, followed by tea and a chance to swap practical tips."),
    ("klub-seniora", "polish", "g", "social-groups", "polish-centre", "WE 14:00 16:00", "", "50", "pl en", "o", "2026-07-29", "Klub Seniora (Polish Seniors' Club)", "A weekly afternoon club for older Polish speakers, with cards, films, talks and plenty of coffee. Members celebrate Polish holidays together and welcome newcomers warmly."),
    ("pennimore-friendship", "pennimore", "g", "social-groups food-lunch-clubs", "pennimore-hall", "WE 14:00 16:00", "2|Per session|£2 including tea and cake", "60", "en", "o", "2026-05-20", "Pennimore Friendship Club", "An afternoon club in Pennimore Village Hall with tea, cake, games and the occasional outing. It's small and welcoming, and lifts can be arranged through Kindlebury Community Transport."),
    # Volunteering roles
    ("befriender-volunteer", "befriending", "v", "volunteering befriending", "town-hall village-hall", "~About an hour a week, at a time that suits you and the person you visit", "", "18", "en", "o", "2026-10-01", "Befriender Volunteer", "Visit an older or isolated person once a week for a chat and a cup of tea, and make a real difference to their week. Full training, a DBS check and ongoing support are provided, with volunteers based in town and in Upper Kindlebury."),
    ("phone-befriender-volunteer", "befriending", "v", "volunteering befriending", "phone-volunteers", "~One half-hour phone call a week, from home", "", "18", "en", "o", "2026-10-01", "Telephone Befriender Volunteer", "Make a weekly phone call from home to someone who would love a chat. It's ideal if you have a little time but can't commit to visiting in person, and a coordinator is always on hand."),
    ("lunch-club-helper", "age-friendly", "v", "volunteering food-lunch-clubs", "st-marys-hall", "WE 11:00 14:30", "", "18", "en", "o", "2026-09-30", "Lunch Club Helper", "Help set tables, serve lunch and chat with members at the Wednesday Lunch Club. It's sociable, practical volunteering with no cooking experience needed, and even one week a month helps."),
    ("garden-volunteer", "community-garden", "v", "volunteering gardening-nature", "community-garden", "WE,SA 10:00 13:00", "", "18", "en", "o", "2026-09-24", "Community Garden Volunteer", "Lend a hand at Mill Lane Community Garden with planting, weeding, building raised beds or welcoming visitors. You'll learn as you go from experienced gardeners; come to one session or all of them."),
    ("volunteer-driver", "transport", "v", "volunteering", "transport-depot", "~Weekday journeys, offered a week ahead; take as many or as few as you like", "", "21-80", "en", "o", "2025-10-28", "Volunteer Driver", "Drive people to hospital appointments, lunch clubs and the shops, in the community minibus or your own car with mileage paid. Many passengers say the chat matters as much as the lift. Training and a DBS check are provided.", "Aged 21 to 80, with a full UK driving licence held for at least three years."),
    ("walk-leader-volunteer", "walking", "v", "volunteering physical-activity", "park hillview-park", "~Lead or back-mark one walk a month, or more if you like", "", "18", "en", "o", "2026-08-20", "Walk Leader Volunteer", "Lead friendly health walks in Kindlebury Park or Hillview Country Park after a free one-day training course. Walk leaders greet walkers, keep the group together and make sure everyone gets home safely."),
    ("digital-buddy-volunteer", "library", "v", "volunteering digital-skills", "library", "TU,FR 10:00 12:00", "", "18", "en pl", "o", "2026-11-18", "Digital Buddy Volunteer", "Help people get to grips with their phones, tablets and laptops at the library's Digital Drop-in. Patience matters more than technical know-how, and Polish speakers are especially welcome."),
    ("pantry-volunteer", "pantry", "v", "volunteering food-lunch-clubs", "community-centre", "SA 09:00 13:00", "", "18", "en", "o", "2026-11-06", "Community Pantry Volunteer", "Cook, serve, wash up or welcome people at the Saturday Pay-as-you-feel Café, turning surplus food into hot meals. It's busy, cheerful work in a close team, and food hygiene training is provided."),
    ("carer-sitting-volunteer", "carers", "v", "volunteering carers", "town-hall", "~Two or three hours a week, usually on weekdays", "", "18", "en", "o", "2025-08-06", "Carers' Sitting Volunteer", "Sit with someone for a few hours so that their carer can go out, rest or see friends. Most people you'll sit with live with dementia or a long-term illness; full training is given, and reliability matters most."),
    ("conservation-volunteer", "hillview-friends", "v", "volunteering gardening-nature physical-activity", "hillview-park", "TH 10:00 14:00", "", "18", "en", "o", "2024-10-02", "Conservation Volunteer", "Join the volunteer rangers at Hillview Country Park to lay hedges, clear paths, plant trees and count wildlife. The work is outdoors in all weathers, with tools, gloves and a hot drink provided."),
    ("farm-volunteer", "thistlecombe-farm", "v", "volunteering gardening-nature", "thistlecombe-farm", "MO,TH 09:30 15:30", "", "18", "en", "o", "2026-09-10", "Farm Volunteer", "Help feed the animals, muck out, grow vegetables and look after the farm trails. You'll work alongside people on the green care days, so kindness counts as much as muscle; lunch is provided."),
    ("hub-cafe-volunteer", "riverside-hub", "v", "volunteering social-groups", "riverside-hub", "~Any weekday morning, from two hours a week", "", "18", "en", "o", "2026-07-01", "Hub Café Volunteer", "Make tea, chat to visitors and help keep the Riverside Community Hub welcoming. It's a gentle first step into volunteering with a friendly team, and many volunteers started out as visitors."),
    ("young-carers-volunteer", "young-carers", "v", "volunteering carers", "riverside-hub", "TH 17:30 19:30", "", "21", "en", "o", "2025-02-26", "Young Carers' Club Volunteer", "Help run the Thursday evening Young Adult Carers' Club, planning activities and being a friendly, reliable face each week. Training and a DBS check are provided.", "Adults aged 21 and over; a DBS check is arranged for you."),
]
INACTIVE = {"upper-carers-group", "get-online-cafe"}

KINDS = {"g": "group", "s": "service", "v": "volunteering"}
CAPACITY = {"o": "open", "w": "waiting-list", "f": "full"}
ORDINALS = {"1": "First", "2": "Second", "3": "Third", "4": "Fourth"}
DAYS = dict(vocab.WEEKDAYS)


def clock(hhmm: str) -> str:
    h, m = (int(x) for x in hhmm.split(":"))
    suffix = "am" if h < 12 else "pm"
    h = h % 12 or 12
    return f"{h}{suffix}" if m == 0 else f"{h}:{m:02d}{suffix}"


def first_on(day_code: str, nth: int | None) -> str:
    """dtstart: the first such weekday from Monday 6 January 2025 (nth one of the month)."""
    d = date(2025, 1, 6) if nth is None else date(2025, 1, 1)
    d += timedelta(days=(list(DAYS).index(day_code) - d.weekday()) % 7)
    return (d + timedelta(weeks=(nth or 1) - 1)).isoformat()


def schedule(service_id: str, slug: str, spec: str) -> list[dict]:
    if not spec:
        return []
    sid = uid("schedule", f"{slug}:1")
    if spec.startswith("~"):
        return [{"id": sid, "service_id": service_id, "description": spec[1:]}]
    byday, opens, closes = spec.split()
    times = f"{clock(opens)} to {clock(closes)}"
    if byday[0].isdigit():
        freq, day = "MONTHLY", byday[1:]
        text = f"{ORDINALS[byday[0]]} {DAYS[day]} of the month, {times}"
        start = first_on(day, int(byday[0]))
    else:
        freq, days = "WEEKLY", byday.split(",")
        names = [DAYS[d] + "s" for d in days]
        text = (" and ".join(names) if len(names) < 3
                else ", ".join(names[:-1]) + " and " + names[-1]) + " " + times
        start = first_on(days[0], None)
    return [{"id": sid, "service_id": service_id, "freq": freq, "interval": 1, "byday": byday,
             "opens_at": opens, "closes_at": closes, "dtstart": start, "description": text}]


def term(kind_slug, service_id, term_id, name, description, taxonomy_id, taxonomy) -> dict:
    return {"id": uid("attribute", kind_slug), "link_id": service_id, "link_type": "service",
            "link_entity": "service", "taxonomy_term_id": term_id,
            "taxonomy_term": {"id": term_id, "name": name, "description": description,
                              "taxonomy_id": taxonomy_id, "taxonomy": taxonomy}}


def location(slug: str) -> dict:
    loc_id = uid("location", slug)
    if slug in VIRTUAL:
        name, description = VIRTUAL[slug]
        return {"id": loc_id, "location_type": "virtual", "name": name,
                "description": description, "addresses": [], "accessibility": []}
    _, name, street, town, postcode, east, north, access, description = VENUE_BY_SLUG[slug]
    lat, lon = coords(east, north)
    return {
        "id": loc_id, "location_type": "physical", "name": name, "description": description,
        "latitude": lat, "longitude": lon,
        "addresses": [{"id": uid("address", slug), "location_id": loc_id, "address_1": street,
                       "city": town, "state_province": "Staffordshire", "postal_code": postcode,
                       "country": "GB", "address_type": "physical"}],
        "accessibility": [{"id": uid("accessibility", f"{slug}:{code}"), "location_id": loc_id,
                           "description": vocab.ACCESSIBILITY_BY_CODE[code].label, "details": code}
                          for code in access.split()],
    }


def organization(slug: str) -> dict:
    _, name, _, _, _, description = ORG_BY_SLUG[slug]
    return {"id": uid("org", slug), "name": name, "description": description,
            "email": f"{slug}@kindlebury.example", "website": f"https://{slug}.kindlebury.example/"}


def service(n: int, offer: tuple) -> dict:
    (slug, org, kind, cats, venues, sched, cost, ages, langs, cap, assured, name,
     description, *eligible) = offer
    sid = uid("service", slug)
    _, _, contact, title, phone, _ = ORG_BY_SLUG[org]
    if cost:
        amount, option, cost_text = cost.split("|")
        cost_option = {"option": option, "amount": float(amount), "amount_description": cost_text}
    else:
        cost_text, cost_option = "Free", {"option": "Free", "amount": 0}
    low, _, high = ages.partition("-")
    eligibility = eligible[0] if eligible else (
        "Open to everyone." if not low else f"People aged {low} to {high}." if high
        else f"Adults aged {low} and over." if low == "18" else f"People aged {low} and over.")
    kind_term, cap_term = vocab.KIND_TERMS[KINDS[kind]], vocab.CAPACITY_TERMS[CAPACITY[cap]]
    categories = [vocab.CATEGORY_BY_CODE[c] for c in cats.split()]
    record = {
        "id": sid, "organization_id": uid("org", org), "name": name, "description": description,
        "url": f"https://{org}.kindlebury.example/{slug}", "email": f"{org}@kindlebury.example",
        "status": "inactive" if slug in INACTIVE else "active", "fees": cost_text,
    }
    if low:
        record["minimum_age"] = int(low)
    if high:
        record["maximum_age"] = int(high)
    record.update({
        "eligibility_description": eligibility, "assured_date": assured, "assurer_email": ASSURER,
        "last_modified": f"{assured}T{9 + n % 8:02d}:{n * 13 % 60:02d}:00Z",
        "organization": organization(org),
        "service_at_locations": [
            {"id": uid("service-at-location", f"{slug}:{v}"), "service_id": sid,
             "location_id": uid("location", v), "location": location(v)} for v in venues.split()],
        "schedules": schedule(sid, slug, sched),
        "cost_options": [{"id": uid("cost-option", slug), "service_id": sid, **cost_option}],
        "languages": [{"id": uid("language", f"{slug}:{code}"), "service_id": sid,
                       "name": vocab.LANGUAGES[code], "code": code} for code in langs.split()],
        "contacts": [{"id": uid("contact", slug), "service_id": sid, "name": contact,
                      "title": title, "phones": [{"id": uid("phone", slug),
                                                  "number": f"01632 960{phone}"}]}],
        "attributes": [
            *(term(f"{slug}:category:{c.code}", sid, c.id, c.name, c.description,
                   vocab.TAXONOMY_ID, vocab.TAXONOMY_NAME) for c in categories),
            term(f"{slug}:kind", sid, kind_term.id, kind_term.name, kind_term.name,
                 vocab.KIND_TAXONOMY_ID, KIND_TAXONOMY_NAME),
            term(f"{slug}:capacity", sid, cap_term.id, cap_term.name, cap_term.name,
                 vocab.CAPACITY_TAXONOMY_ID, CAPACITY_TAXONOMY_NAME),
        ],
    })
    return record


ORG_BY_SLUG = {o[0]: o for o in ORGS}
VENUE_BY_SLUG = {v[0]: v for v in VENUES}


def check() -> None:
    """Fail loudly on the mistakes a hand-edited offer list invites."""
    slugs = [o[0] for o in OFFERS]
    assert len(slugs) == len(set(slugs)), "duplicate offer slug"
    assert len(VIRTUAL) <= 3 and INACTIVE <= set(slugs)
    for slug, org, kind, cats, venues, *rest in OFFERS:
        codes = cats.split()
        assert len(rest) in (8, 9), f"{slug}: wrong number of fields"
        assert org in ORG_BY_SLUG and 1 <= len(codes) <= 3, slug
        assert all(c in vocab.CATEGORY_BY_CODE for c in codes), slug
        assert (kind == "v") == ("volunteering" in codes), slug
        assert all(v in VENUE_BY_SLUG or v in VIRTUAL for v in venues.split()), slug
    for v in VENUES:
        assert all(c in vocab.ACCESSIBILITY_BY_CODE for c in v[7].split()), v[0]
    assert {o[1] for o in OFFERS} == set(ORG_BY_SLUG), "unused or unknown organisation"


def postcode_rows() -> list[tuple[str, float, float]]:
    points = {}
    for postcode, east, north in [(v[4], v[5], v[6]) for v in VENUES] + RESIDENTS:
        assert points.setdefault(postcode, coords(east, north)) == coords(east, north), postcode
    rows = [(pc, *points[pc]) for pc in sorted(points)]
    return rows + [(outcode, *coords(east, north)) for outcode, east, north in OUTCODES]


def main() -> None:
    check()
    contents = [service(n, offer) for n, offer in enumerate(OFFERS)]
    page = {"total_items": len(contents), "total_pages": 1, "page_number": 1,
            "size": len(contents), "first_page": True, "last_page": True, "empty": False,
            "contents": contents}
    out = HERE / "kindlebury-directory.json"
    out.write_text(json.dumps(page, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    with open(HERE / "kindlebury-postcodes.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["postcode", "latitude", "longitude"])
        writer.writerows((pc, f"{lat:.6f}", f"{lon:.6f}") for pc, lat, lon in postcode_rows())
    print(f"wrote {len(contents)} services from {len(ORGS)} organisations to {out.name}")


if __name__ == "__main__":
    main()
